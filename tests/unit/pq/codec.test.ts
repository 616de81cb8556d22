import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter, CodecError } from "@/lib/pq/codec";

describe("ByteWriter and ByteReader", () => {
  it("round-trip fields past the initial buffer size", () => {
    const blob = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    const bytes = new ByteWriter()
      .u8(7)
      .bytes(blob)
      .u16(0xbeef)
      .u32(0xdeadbeef)
      .u64(Number.MAX_SAFE_INTEGER)
      .u64(2n ** 64n - 1n)
      .string("zoë")
      .finish();
    const reader = new ByteReader(bytes);
    expect(reader.u8("a")).toBe(7);
    expect([...reader.bytes(300, "blob")]).toEqual([...blob]);
    expect(reader.u16("b")).toBe(0xbeef);
    expect(reader.u32("c")).toBe(0xdeadbeef);
    expect(reader.u64("d")).toBe(Number.MAX_SAFE_INTEGER);
    expect(reader.u64BigInt("e")).toBe(2n ** 64n - 1n);
    expect(reader.string("f", 16)).toBe("zoë");
    expect(() => reader.end("record")).not.toThrow();
  });

  it("encodes integers little-endian", () => {
    const bytes = new ByteWriter().u16(0x0102).u32(0x03040506).finish();
    expect([...bytes]).toEqual([0x02, 0x01, 0x06, 0x05, 0x04, 0x03]);
  });

  it("rejects a u64 above 2^53 - 1 as a number", () => {
    const bytes = new ByteWriter().u64(2n ** 53n).finish();
    expect(() => new ByteReader(bytes).u64("count")).toThrow(CodecError);
  });

  it("keeps a leading byte order mark", () => {
    const bytes = new ByteWriter().string("\ufeffid").finish();
    expect(new ByteReader(bytes).string("id", 16)).toBe("\ufeffid");
  });

  it("rejects invalid UTF-8, empty and oversized strings", () => {
    const overlong = Uint8Array.of(2, 0, 0xc0, 0xaf); // overlong encoding of "/"
    const empty = Uint8Array.of(0, 0);
    const long = new ByteWriter().string("abcdef").finish();
    expect(() => new ByteReader(overlong).string("s", 16)).toThrow("s: invalid UTF-8");
    expect(() => new ByteReader(empty).string("s", 16)).toThrow("s: length 0 outside [1, 16]");
    expect(() => new ByteReader(long).string("s", 5)).toThrow("s: length 6 outside [1, 5]");
  });

  it("rejects reads past the end and trailing bytes", () => {
    expect(() => new ByteReader(Uint8Array.of(1)).u16("n")).toThrow(
      "n: needs 2 bytes at offset 0, only 1 left",
    );
    const reader = new ByteReader(Uint8Array.of(1, 2));
    reader.u8("first");
    expect(() => reader.end("record")).toThrow("record: 1 trailing bytes at offset 1");
  });
});

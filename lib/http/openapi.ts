/**
 * The OpenAPI 3.1 description of the client REST API, served at /api/v1/openapi.json. Binary
 * bodies are the formats of docs/protocol.md; keys and signatures inside JSON are base64.
 */

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

const binary = { type: "string", contentMediaType: "application/octet-stream" } as const;
const base64 = { type: "string", contentEncoding: "base64" } as const;

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "QSFL-CAAD client API",
    version: "1.0.0",
    description:
      "REST API for federated-learning clients. Clients authenticate with ML-DSA-65 signatures " +
      "(FIPS 204), not with sessions or cookies, and encrypt updates under an X-Wing " +
      "(ML-KEM-768 + X25519) session key. docs/protocol.md describes every binary format byte by " +
      "byte. Every rejection answers { error, message, requestId } and is recorded as one " +
      "security event; nothing else is written for a rejected request. The in-process " +
      "registerClient call, which generates client keys on the server, is not part of this API: " +
      "it exists only behind security.allowServerGeneratedKeys for local demos and tests, and is " +
      "off in production.",
  },
  servers: [{ url: "/" }],
  paths: {
    "/api/v1/server-keys": {
      get: {
        summary: "The server's public keys and SHA-256 fingerprints, for clients to pin",
        responses: {
          "200": {
            description: "Keys",
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/ServerKeys" } },
            },
          },
        },
      },
    },
    "/api/v1/enroll": {
      post: {
        summary: "Exchange a one-time enrollment token and a proof of possession for a credential",
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/EnrollRequest" } },
          },
        },
        responses: {
          "201": {
            description: "The credential, signed by the server (context qsfl-caad/credential/v1)",
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/Credential" } },
            },
          },
          "400": errorResponse("Malformed body, invalid client id or key length"),
          "401": errorResponse(
            "Invalid, used or expired token (token_used, token_expired), or bad proof signature",
          ),
          "403": errorResponse("Token issued for another client, or the client is revoked"),
          "413": errorResponse("Body over 64 KiB"),
          "415": errorResponse("Content-Type is not application/json"),
        },
      },
    },
    "/api/v1/sessions": {
      post: {
        summary:
          "Open a session: an X-Wing encapsulation signed by the client (context qsfl-caad/handshake/v1)",
        requestBody: {
          required: true,
          content: { "application/octet-stream": { schema: binary } },
        },
        responses: {
          "201": {
            description: "Session opened",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Session" } } },
          },
          "400": errorResponse("Malformed handshake"),
          "401": errorResponse("Unknown client or bad signature"),
          "403": errorResponse("Client revoked, credential revoked or expired"),
          "409": errorResponse(
            "Replayed handshake, timestamp outside the window, or another server key",
          ),
          "415": errorResponse("Content-Type is not application/octet-stream"),
        },
      },
    },
    "/api/v1/updates": {
      post: {
        summary: "Submit one signed, encrypted update envelope",
        description:
          "Checked cheapest first: size (limit security.maxUpdateBytes, enforced while reading), parse, client, " +
          "credential, round, timestamp, nonce, session, signature, manifest, decryption, digest, finite values.",
        requestBody: {
          required: true,
          content: { "application/octet-stream": { schema: binary } },
        },
        responses: {
          "202": {
            description:
              "Stored; the receipt is signed by the server (context qsfl-caad/receipt/v1)",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Receipt" } } },
          },
          "400": errorResponse("Malformed or truncated envelope, or decryption failed"),
          "401": errorResponse("Unknown client, unknown or used-up session, or bad signature"),
          "403": errorResponse("Client revoked, credential revoked or expired"),
          "409": errorResponse(
            "Replayed nonce, duplicate update, round closed or mismatched, stale model or timestamp",
          ),
          "413": errorResponse("Body over the size limit"),
          "415": errorResponse("Content-Type is not application/octet-stream"),
          "422": errorResponse(
            "Manifest differs from the federation's model, digest mismatch, or NaN/infinite values",
          ),
        },
      },
    },
    "/api/v1/credentials/rotate": {
      post: {
        summary:
          "Replace the client's keys, signed with its current key (context qsfl-caad/rotate/v1)",
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/RotateRequest" } },
          },
        },
        responses: {
          "201": {
            description: "The new credential",
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/Credential" } },
            },
          },
          "400": errorResponse("Malformed statement or key"),
          "401": errorResponse("Unknown client or bad signature"),
          "403": errorResponse("Credential revoked or expired"),
          "409": errorResponse("Rotation names a key that is not current, or a stale timestamp"),
        },
      },
    },
    "/api/v1/federations/{federationId}/round": {
      get: {
        summary: "The federation's status and newest round",
        parameters: [
          { name: "federationId", in: "path", required: true, schema: { type: "string" } },
        ],
        responses: {
          "200": {
            description: "Round information",
            content: { "application/json": { schema: { $ref: "#/components/schemas/RoundInfo" } } },
          },
          "404": errorResponse("Federation not found"),
        },
      },
    },
    "/api/v1/federations/{federationId}/model": {
      get: {
        summary: "A signed global model (encoded SignedModel, context qsfl-caad/model/v1)",
        description: "Clients must verify the signature and the payload digest before use.",
        parameters: [
          { name: "federationId", in: "path", required: true, schema: { type: "string" } },
          {
            name: "version",
            in: "query",
            required: false,
            schema: { type: "integer", minimum: 0 },
          },
        ],
        responses: {
          "200": {
            description: "The signed model",
            content: { "application/octet-stream": { schema: binary } },
          },
          "400": errorResponse("Invalid version"),
          "404": errorResponse("No such model"),
        },
      },
    },
  },
  components: {
    schemas: {
      Error: {
        type: "object",
        required: ["error", "message", "requestId"],
        properties: {
          error: {
            type: "string",
            description: "Stable error code, e.g. bad_signature or replayed_nonce",
          },
          message: { type: "string" },
          requestId: { type: "string" },
        },
      },
      ServerKeys: {
        type: "object",
        properties: {
          signing: { $ref: "#/components/schemas/PublicKey" },
          kem: { $ref: "#/components/schemas/PublicKey" },
        },
      },
      PublicKey: {
        type: "object",
        properties: {
          algorithm: { type: "string" },
          publicKey: base64,
          fingerprint: { type: "string", description: "SHA-256 of the public key, hex" },
        },
      },
      EnrollRequest: {
        type: "object",
        required: ["token", "clientId", "signingPublicKey", "proofSignature"],
        additionalProperties: false,
        properties: {
          token: { type: "string", description: "<token id>.<secret>, as issued by an operator" },
          clientId: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" },
          signingPublicKey: { ...base64, description: "ML-DSA-65 public key, 1952 bytes" },
          kemPublicKey: { ...base64, description: "X-Wing public key, 1216 bytes, or null" },
          proofSignature: {
            ...base64,
            description:
              "ML-DSA-65 signature of the enrollment proof (context qsfl-caad/enroll/v1)",
          },
        },
      },
      Credential: {
        type: "object",
        properties: {
          clientId: { type: "string" },
          serial: { type: "string" },
          issuedAt: { type: "string", format: "date-time" },
          expiresAt: { type: "string", format: "date-time" },
          credential: { ...base64, description: "Encoded credential statement" },
          serverSignature: base64,
        },
      },
      Session: {
        type: "object",
        properties: {
          sessionId: { type: "string", description: "16 bytes, hex" },
          expiresAt: { type: "string", format: "date-time" },
          maxUpdates: { type: "integer" },
        },
      },
      Receipt: {
        type: "object",
        properties: {
          updateId: { type: "string" },
          roundId: { type: "string" },
          receipt: { ...base64, description: "Encoded receipt statement" },
          receiptSignature: base64,
        },
      },
      RotateRequest: {
        type: "object",
        required: ["clientId", "rotation", "signature"],
        additionalProperties: false,
        properties: {
          clientId: { type: "string" },
          rotation: { ...base64, description: "Encoded key rotation statement" },
          signature: { ...base64, description: "Signature by the current key" },
        },
      },
      RoundInfo: {
        type: "object",
        properties: {
          federationId: { type: "string" },
          federationStatus: {
            type: "string",
            enum: ["created", "running", "completed", "stopped"],
          },
          plannedRounds: { type: "integer" },
          modelSpec: { type: "object" },
          round: {
            type: ["object", "null"],
            properties: {
              roundId: { type: "string" },
              number: { type: "integer" },
              status: {
                type: "string",
                enum: ["open", "collecting", "aggregating", "published", "failed"],
              },
              deadline: { type: "string", format: "date-time" },
              baseModelVersion: { type: "integer" },
            },
          },
        },
      },
    },
  },
} as const;

"use client";
/** The dashboard's main navigation; the link of the current section has aria-current="page". */
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Overview" },
  { href: "/federations", label: "Federations" },
  { href: "/clients", label: "Clients" },
  { href: "/events", label: "Security events" },
  { href: "/alerts", label: "Alerts" },
  { href: "/metrics", label: "Metrics" },
];

export function MainNav({ isAdmin }: { isAdmin: boolean }) {
  const pathname = usePathname();
  const links = isAdmin ? [...LINKS, { href: "/admin/accounts", label: "Accounts" }] : LINKS;
  const current = (href: string) =>
    href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
  return (
    <nav aria-label="Main" className="main-nav">
      {links.map((link) => (
        <Link
          key={link.href}
          href={link.href}
          aria-current={current(link.href) ? "page" : undefined}
        >
          {link.label}
        </Link>
      ))}
    </nav>
  );
}

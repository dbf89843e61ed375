/** Just enough IPv4 CIDR arithmetic to lay out subnets at synth time, where it can be checked. */
export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base, prefix };
}

/** A CIDR block whose address is the start of its range ("10.0.0.0/16", not "10.0.0.1/16"), or undefined. */
export function parseBlock(text: string): Cidr | undefined {
  const cidr = parseCidr(text);
  return cidr && isAligned(cidr) ? cidr : undefined;
}

export function isAligned(cidr: Cidr): boolean {
  return cidr.base % blockSize(cidr.prefix) === 0;
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && Math.floor(inner.base / blockSize(outer.prefix)) === Math.floor(outer.base / blockSize(outer.prefix));
}

/** Whether two ranges share an address: for blocks, one holds the other (an equal range holds it too). */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const [startA, startB] = [rangeStart(a), rangeStart(b)];
  return startA < startB + blockSize(b.prefix) && startB < startA + blockSize(a.prefix);
}

/** The index-th block of the given prefix inside `cidr`. */
export function subnet(cidr: Cidr, prefix: number, index: number): string {
  return formatCidr({ base: cidr.base + index * blockSize(prefix), prefix });
}

export function formatCidr(cidr: Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(cidr.base / 2 ** shift) % 256);
  return `${octets.join(".")}/${cidr.prefix}`;
}

/** The first address of the range `cidr` names ("10.0.0.1/16" starts at 10.0.0.0). */
function rangeStart(cidr: Cidr): number {
  return cidr.base - (cidr.base % blockSize(cidr.prefix));
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

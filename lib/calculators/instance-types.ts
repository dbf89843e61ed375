/**
 * What synth needs to know of an EC2 instance type: CPU, memory, architecture and how many network
 * interfaces it takes (each `awsvpc` task uses one; the instance keeps one for itself).
 * A type missing here is refused with a message pointing at this file; add a line from the EC2 docs.
 */
export interface InstanceType {
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly arch: "X86_64" | "ARM64";
  readonly enis: number;
}

const GiB = 1024;
// [size, vCPUs, ENIs] of the common sizes; memory follows from the family's GiB per vCPU.
const SIZES: readonly [string, number, number][] = [
  ["large", 2, 3],
  ["xlarge", 4, 4],
  ["2xlarge", 8, 4],
  ["4xlarge", 16, 8],
];
// family: [GiB per vCPU, architecture]
const FAMILIES: Readonly<Record<string, [number, "X86_64" | "ARM64"]>> = {
  m5: [4, "X86_64"],
  m6i: [4, "X86_64"],
  m6a: [4, "X86_64"],
  m7i: [4, "X86_64"],
  m7a: [4, "X86_64"],
  c5: [2, "X86_64"],
  c6i: [2, "X86_64"],
  c6a: [2, "X86_64"],
  c7i: [2, "X86_64"],
  c7a: [2, "X86_64"],
  r5: [8, "X86_64"],
  r6i: [8, "X86_64"],
  r6a: [8, "X86_64"],
  r7i: [8, "X86_64"],
  m6g: [4, "ARM64"],
  m7g: [4, "ARM64"],
  c6g: [2, "ARM64"],
  c7g: [2, "ARM64"],
  r6g: [8, "ARM64"],
  r7g: [8, "ARM64"],
};
// Burstable types have their own shapes.
const BURSTABLE: readonly [string, number, number, number][] = [
  // size, vCPUs, GiB, ENIs
  ["micro", 2, 1, 2],
  ["small", 2, 2, 3],
  ["medium", 2, 4, 3],
  ["large", 2, 8, 3],
  ["xlarge", 4, 16, 4],
  ["2xlarge", 8, 32, 4],
];

export const INSTANCE_TYPES: Readonly<Record<string, InstanceType>> = Object.fromEntries([
  ...Object.entries(FAMILIES).flatMap(([family, [ratio, arch]]) =>
    SIZES.map(([size, vcpus, enis]) => [`${family}.${size}`, { vcpus, memoryMiB: vcpus * ratio * GiB, arch, enis }]),
  ),
  ...(["t3", "t3a", "t4g"] as const).flatMap((family) =>
    BURSTABLE.map(([size, vcpus, gib, enis]) => [`${family}.${size}`, { vcpus, memoryMiB: gib * GiB, arch: family === "t4g" ? "ARM64" : "X86_64", enis }]),
  ),
]);

/** Memory ECS can give to tasks: roughly 90% is left after the OS and the ECS agent. */
export function taskMemoryOf(type: InstanceType): number {
  return Math.floor(type.memoryMiB * 0.9);
}

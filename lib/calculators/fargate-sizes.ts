/**
 * CPU architectures Fargate Spot can run. Source: the Amazon ECS developer guide, "Fargate capacity
 * providers" (Linux ARM64 tasks are not supported on Fargate Spot). Refresh: that page.
 */
export const FARGATE_SPOT_ARCHITECTURES: readonly string[] = ["X86_64"];

/** Fargate's valid task sizes: CPU units (1024 = 1 vCPU) to the memory values, in MiB, each allows. */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: steps(1024, 4096, 1024),
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
  8192: steps(16384, 61440, 4096),
  16384: steps(32768, 122880, 8192),
};

function steps(from: number, to: number, step: number): number[] {
  return Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
}

/** A short description of the memory values allowed with `cpu`, for error messages. */
export function describeMemoryFor(cpu: number): string {
  const values = FARGATE_MEMORY_BY_CPU[cpu];
  if (values.length <= 4) return values.join(", ");
  return `${values[0]} to ${values[values.length - 1]} in steps of ${values[1] - values[0]}`;
}

import { INSTANCE_TYPES, type InstanceType, taskMemoryOf } from "./instance-types";

/** The task an instance hosts copies of. */
export interface HostedTask {
  readonly cpu: number;
  readonly memory: number;
  readonly cpuArchitecture: "X86_64" | "ARM64";
}

/** A service's task and the most copies of it the service may run. */
export interface HostedWorkload {
  readonly task: HostedTask;
  readonly maxTasks: number;
  /** Where its task is set, for messages: `task`, or `services.<key>.task`. @default "task" */
  readonly setting?: string;
}

/** The EC2 settings the sizing reads (`compute.ec2`). */
export interface Ec2SizingSettings {
  readonly instanceType?: string;
  readonly minInstances: number;
  readonly maxInstances?: number;
}

/** What the sizing decides, once, for the schema to check and the capacity to build. */
export interface Ec2Sizing {
  readonly instanceType: string;
  readonly maxInstances: number;
  /** Instances that hold every workload at its maximum: the most managed scaling adds in one step (up to 10). */
  readonly neededInstances: number;
  /** The first workload's (the default API's); the schema holds the others to it. */
  readonly cpuArchitecture: "X86_64" | "ARM64";
}

/** The first setting that cannot work, named with what would (the settings schema reports it). */
export interface Ec2SizingProblem {
  readonly setting: string;
  readonly value: unknown;
  readonly problem: string;
  readonly allowed: string;
}

/** Copies of the task one instance holds: the least of CPU, memory and network interfaces allow. */
export function tasksPerInstance(type: InstanceType, task: HostedTask): number {
  return Math.min(Math.floor((type.vcpus * 1024) / task.cpu), Math.floor(taskMemoryOf(type) / task.memory), type.enis - 1);
}

/** Instances that hold every workload at its maximum: each task takes its share of an instance. */
export function instancesNeeded(type: InstanceType, workloads: readonly HostedWorkload[]): number {
  return Math.ceil(workloads.reduce((sum, w) => sum + w.maxTasks / tasksPerInstance(type, w.task), 0) - 1e-9);
}

/**
 * The instance type and count for the services' and jobs' tasks at their maximum counts, or the first
 * setting that cannot work. The first workload (the default API) decides the architecture.
 */
export function sizeEc2(settings: Ec2SizingSettings, workloads: readonly HostedWorkload[]): { sizing: Ec2Sizing } | Ec2SizingProblem {
  const arch = workloads[0].task.cpuArchitecture;
  const name = settings.instanceType ?? (arch === "ARM64" ? "t4g.medium" : "t3.medium");
  const at = (problem: string, allowed: string) => ({ setting: "instanceType", value: name, problem, allowed });
  const type = INSTANCE_TYPES[name];
  if (!type)
    return at("not a type this starter knows the size of", 'one listed in lib/calculators/instance-types.ts (e.g. "t3.medium", "m7g.large"), or add it there');
  if (type.arch !== arch)
    return at(
      `a ${type.arch} type, but task.cpuArchitecture is ${arch}`,
      arch === "ARM64" ? 'a Graviton type such as "t4g.medium" or "m7g.large"' : 'an x86 type such as "t3.medium" or "m7i.large"',
    );
  for (const { task, setting = "task" } of workloads) {
    if (taskMemoryOf(type) < task.memory)
      return at(
        `${name} leaves about ${taskMemoryOf(type)} MiB for tasks, less than ${setting}.memory (${task.memory} MiB)`,
        `a type with more memory, or a smaller ${setting}.memory`,
      );
    if (type.vcpus * 1024 < task.cpu)
      return at(`${name} has ${type.vcpus * 1024} CPU units, fewer than ${setting}.cpu (${task.cpu})`, `a type with more vCPUs, or a smaller ${setting}.cpu`);
  }
  const needed = instancesNeeded(type, workloads);
  const maxInstances = settings.maxInstances ?? Math.max(settings.minInstances, 1, needed * 2);
  if (settings.minInstances > maxInstances)
    return {
      setting: "minInstances",
      value: settings.minInstances,
      problem: `greater than compute.ec2.maxInstances (${maxInstances})`,
      allowed: `at most ${maxInstances}`,
    };
  if (maxInstances < needed) {
    const perInstance = tasksPerInstance(type, workloads[0].task);
    const holds =
      workloads.length === 1
        ? `hold ${maxInstances * perInstance} tasks (${perInstance} each), fewer than the service's maximum of ${workloads[0].maxTasks}`
        : `cannot hold the services' ${workloads.map((w) => w.maxTasks).join(" + ")} tasks at their maximum counts`;
    return {
      setting: "maxInstances",
      value: maxInstances,
      problem: `${maxInstances} x ${name} ${holds}`,
      allowed: `${needed} or more, or a larger instance type`,
    };
  }
  return { sizing: { instanceType: name, maxInstances, neededInstances: needed, cpuArchitecture: arch } };
}

import { it } from '@jest/globals';

/** Registers one case of a contract suite: Jest's `it`, or a wrapper around it. */
export type RegisterCase = (title: string, run: () => Promise<void>, timeout?: number) => void;

export interface ContractOptions {
  /**
   * Registers each case (default: Jest's `it`). A runner that must treat some cases apart on
   * one server (a documented gap of that server) wraps it, by title.
   */
  it?: RegisterCase;
}

export function caseRegistrar(options: ContractOptions): RegisterCase {
  return options.it ?? ((title, run, timeout) => it(title, run, timeout));
}

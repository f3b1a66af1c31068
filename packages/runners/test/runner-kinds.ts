import type { BaseRunner } from '@nenc/core'
import { MultiThreadRunner, PersistentProcessRunner, ProcessRunner, ThreadRunner } from '../src/index.js'
import { APP_MODULE } from './helpers.js'

/** Every runner, built small so a 2-core machine runs the suite quickly. */
export const RUNNER_KINDS: { name: string; memCompatible: boolean; make(): BaseRunner }[] = [
  { name: 'ThreadRunner', memCompatible: true, make: () => new ThreadRunner({ maxThreads: 4 }) },
  {
    name: 'ProcessRunner',
    memCompatible: false,
    make: () => new ProcessRunner({ appModule: APP_MODULE, maxProcesses: 2, warmProcesses: 2 }),
  },
  {
    name: 'PersistentProcessRunner',
    memCompatible: false,
    make: () => new PersistentProcessRunner({ appModule: APP_MODULE, numProcesses: 2 }),
  },
  {
    name: 'MultiThreadRunner',
    memCompatible: false,
    make: () =>
      new MultiThreadRunner({ appModule: APP_MODULE, minProcesses: 1, maxProcesses: 2, maxThreads: 4 }),
  },
]

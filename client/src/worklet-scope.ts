/** The AudioWorkletGlobalScope, typed (worklet-globals.d.ts). Import only from worklet entry points. */
import type { AudioWorkletScope } from './worklet-globals.js';

export const scope = globalThis as unknown as AudioWorkletScope;

import type { BuildOptions } from 'esbuild';

export declare const handlerBuildOptions: BuildOptions;

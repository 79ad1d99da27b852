import Module from 'node:module';

type Resolve = (request: string, ...rest: unknown[]) => string;

/** Makes `require(name)` load `stubs[name]` instead, for the modules the tests stand in for. */
export function stubModules(stubs: Record<string, string>): void {
  const internals = Module as unknown as { _resolveFilename: Resolve };
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return Object.prototype.hasOwnProperty.call(stubs, request) ? stubs[request] : resolve.call(this, request, ...rest);
  };
}

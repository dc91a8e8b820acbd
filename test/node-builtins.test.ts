import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KwsError } from '../src/errors.js';
import { type NodeBuiltinName, nodeBuiltin, nodeFileSystem } from '../src/node-builtins.js';

describe('nodeBuiltin', () => {
  it('loads the Node module itself', async () => {
    const loaded = await nodeBuiltin('path', { caller: 'test' });
    expect(loaded.join('a', 'b')).toBe(path.join('a', 'b'));
    const { fs, path: p } = await nodeFileSystem({ caller: 'test' });
    expect(typeof fs.readFile).toBe('function');
    expect(p.sep).toBe(path.sep);
  });

  it('turns a module that cannot be loaded into a KwsError naming the caller and the alternative', async () => {
    // A name no runtime provides stands in for a browser, where every node: import fails.
    const missing = 'no-such-builtin' as NodeBuiltinName;
    const who = { caller: 'loadModel', alternative: 'modelFromArtifacts' };
    const error = await nodeBuiltin(missing, who).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KwsError);
    expect((error as KwsError).code).toBe('UNSUPPORTED_ENVIRONMENT');
    expect((error as KwsError).message).toMatch(
      /^loadModel needs Node\.js .*in a browser use modelFromArtifacts instead$/,
    );
    // Not cached: a second call fails the same way.
    await expect(nodeBuiltin(missing, { caller: 'x' })).rejects.toThrow(
      /x needs Node\.js.*no browser equivalent/,
    );
  });
});

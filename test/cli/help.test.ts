import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { runCli } from './run-cli.js';

const SUBCOMMANDS = ['train', 'distill', 'quantize', 'eval', 'detect', 'profile', 'tune', 'demo'];

describe('kws-kit --help', () => {
  it('lists every subcommand and documents the exit codes', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const name of SUBCOMMANDS) expect(run.stdout).toMatch(new RegExp(`\\n\\s+${name}\\b`));
    expect(run.stdout).toMatch(/Exit codes:\n\s+0\s+success\n\s+1\s+failure while running/);
    expect(run.stdout).toMatch(/\n\s+2\s+usage error/);
    expect(run.stdout).toMatch(/\n\s+3\s+input not found or invalid/);
    expect(COMMANDS).toHaveLength(SUBCOMMANDS.length);
  });

  it.each([
    [
      'train',
      [
        '--data',
        '--out',
        '--model',
        '--width',
        '--causal',
        '--epochs',
        '--batch-size',
        '--optimizer',
        '--lr',
        '--weight-decay',
        '--seed',
        '--checkpoint-dir',
        '--resume',
        '--recipe',
        '--json',
        '--backend',
      ],
    ],
    [
      'distill',
      ['--teacher', '--student', '--width', '--data', '--temperature', '--alpha', '--out', '--json'],
    ],
    [
      'quantize',
      ['--model', '--scheme', '--out', '--calibration', '--json', 'int8-per-channel', 'uint8-affine'],
    ],
    ['eval', ['--model', '--data', '--split', '--json']],
    [
      'detect',
      ['<input>', '--model', '--chunk', '--mode', '--threshold', '--labels', '--raw', '--rate', '--json'],
    ],
    ['profile', ['--model', '--json', '--backend']],
  ])('%s --help names its options', async (name, options) => {
    const run = await runCli([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    for (const o of options) expect(run.stdout).toContain(o);
    expect(run.stdout).toMatch(
      /--backend <name>\s+tfjs backend \(choices: "wasm", "cpu", default:\s+"wasm"\)/,
    );
  });

  it('exits 2 for no command, an unknown command or an unknown option', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: kws-kit/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const option = await runCli(['profile', '--model', 'x', '--colour']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--colour'/);
    const missing = await runCli(['profile']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '-m, --model <name\|dir>' not specified/);
  });
});

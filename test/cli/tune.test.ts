import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { TUNE_OUTPUT_FILES, tuneCommand } from '../../src/cli/tune-command.js';
import { put, TempDirs, tone } from '../data/make-dataset.js';

function program(): Command {
  const quiet = { writeErr: () => {}, writeOut: () => {} };
  return new Command('kws-kit').exitOverride().addCommand(tuneCommand().configureOutput(quiet));
}

describe('kws-kit tune', () => {
  it('documents its options', () => {
    const help = tuneCommand().helpInformation();
    for (const flag of [
      '--data',
      '--space',
      '--strategy',
      '--trials',
      '--max-params',
      '--journal',
      '--out',
      '--json',
    ]) {
      expect(help).toContain(flag);
    }
  });

  it('rejects a bad space or budget with a KwsError before loading data', async () => {
    await expect(
      program().parseAsync(
        ['tune', '--data', '/nonexistent', '--space', '{"widht": {"type": "float", "low": 0, "high": 1}}'],
        { from: 'user' },
      ),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/unknown option "widht"/),
    });
    await expect(
      program().parseAsync(['tune', '--data', '/nonexistent', '--min-epochs', '9', '--max-epochs', '3'], {
        from: 'user',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/maxEpochs/) });
    await expect(
      program().parseAsync(['tune', '--data', 'x', '--trials', '0'], { from: 'user' }),
    ).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
  });
});

describe('kws-kit tune on a data folder', () => {
  it('searches, writes the four outputs and prints JSON', async () => {
    const dirs = new TempDirs();
    const data = dirs.make('kws-tune-cli-data-');
    ['yes', 'no'].forEach((word, w) => {
      for (let s = 1; s <= 3; s++)
        put(data, `${word}/spk0000${s}_nohash_0.wav`, tone(300 + 700 * w + 20 * s, 1));
    });
    put(data, 'validation_list.txt', 'yes/spk00003_nohash_0.wav\nno/spk00003_nohash_0.wav');
    const out = dirs.make('kws-tune-cli-out-');
    const stdout: string[] = [];
    const io = {
      stdout: { write: (t: string) => stdout.push(t) },
      stderr: { write: () => true },
      stdin: (async function* () {})(),
    };
    const base = {
      model: 'crnn',
      convChannels: 2,
      hiddenSize: 4,
      gruLayers: 1,
      batchSize: 4,
      optimizer: 'adam',
      lr: 0.01,
    };
    try {
      await new Command('kws-kit')
        .exitOverride()
        .addCommand(tuneCommand(io))
        .parseAsync(
          [
            'tune',
            '-d',
            data,
            '--labels',
            'yes,no',
            '--space',
            '{"hopLength":{"type":"choice","values":[160,200]}}',
            '--base',
            JSON.stringify(base),
            '--strategy',
            'random',
            '--trials',
            '2',
            '--epochs',
            '1',
            '--backend',
            'cpu',
            '--out',
            out,
            '--json',
          ],
          { from: 'user' },
        );
      const printed = JSON.parse(stdout.join(''));
      expect(printed.trials).toHaveLength(2);
      expect(printed.best.config).toMatchObject({ model: 'crnn', learningRate: 0.01 });
      for (const f of Object.values(TUNE_OUTPUT_FILES)) expect(existsSync(join(out, f))).toBe(true);
      const recipe = JSON.parse(readFileSync(join(out, TUNE_OUTPUT_FILES.recipe), 'utf8'));
      expect(recipe).toMatchObject({ model: 'crnn', lr: 0.01, epochs: 1, hiddenSize: 4 });
    } finally {
      dirs.cleanup();
    }
  });
});

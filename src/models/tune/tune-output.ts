/**
 * Writes a search's outputs to files: the results table (JSON and markdown), the SVG of
 * accuracy against MACs with the Pareto front, and the best configuration as a recipe.
 *
 * @packageDocumentation
 */
import { nodeFileSystem } from '../../node-builtins.js';
import type { TuneResult } from '../tune.js';
import { type KwsRecipe, recipeFromConfig, writeRecipe } from './recipe.js';
import { type ReferencePoint, tuneMarkdown, tuneParetoSvg, tuneTable } from './tune-report.js';

/** Where {@link writeTuneReport} writes; each file is optional. */
export interface TuneReportPaths {
  /** `{ strategy, seed, plan, best, trials: rows, warnings, seconds }` as pretty JSON. */
  json?: string;
  /** The markdown table ({@link tuneMarkdown}) with the best trial above it. */
  markdown?: string;
  /** Accuracy vs MACs with the front ({@link tuneParetoSvg}); skipped when no trial trained. */
  svg?: string;
  /** The best configuration as a recipe; skipped when no trial trained. */
  recipe?: string;
  /** Labelled points drawn in the SVG (e.g. the hand-written recipe). */
  reference?: readonly ReferencePoint[];
  /** SVG title. */
  title?: string;
}

async function put(path: string, text: string): Promise<void> {
  const {
    fs: { mkdir, writeFile },
    path: { dirname },
  } = await nodeFileSystem({
    caller: 'writeTuneReport',
    alternative: 'tuneTable, tuneMarkdown, tuneParetoSvg and bestRecipe, which return the texts',
  });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** The best trial's recipe (see {@link recipeFromConfig}); null when no trial trained. */
export function bestRecipe(result: TuneResult): KwsRecipe | null {
  const best = result.best;
  return best === null ? null : recipeFromConfig(best.config, { epochs: best.epochs });
}

/** Writes the outputs named in `paths` (folders created). */
export async function writeTuneReport(result: TuneResult, paths: TuneReportPaths): Promise<void> {
  const rows = tuneTable(result.trials);
  if (paths.json !== undefined) {
    const json = {
      strategy: result.strategy,
      seed: result.seed,
      plan: result.plan,
      best: result.best === null ? null : rows[result.trials.indexOf(result.best)],
      objectiveCalls: result.objectiveCalls,
      fromJournal: result.fromJournal,
      stopped: result.stopped,
      seconds: result.seconds,
      warnings: result.warnings.map((w) => ({ code: w.code, message: w.message })),
      trials: rows,
    };
    await put(paths.json, `${JSON.stringify(json, null, 2)}\n`);
  }
  if (paths.markdown !== undefined) {
    const b = result.best;
    const head =
      b === null
        ? 'No trial trained.\n\n'
        : `Best: ${b.id}, ${(100 * (b.accuracy as number)).toFixed(2)}% after ${b.epochs} epochs` +
          `${b.params === undefined ? '' : `, ${b.params} params, ${((b.macs ?? 0) / 1e6).toFixed(3)} M MACs`}.\n\n`;
    await put(paths.markdown, head + tuneMarkdown(result.trials));
  }
  const trained = result.trials.some((t) => t.status === 'ok' && t.macs !== undefined);
  if (paths.svg !== undefined && trained) {
    await put(
      paths.svg,
      tuneParetoSvg(result.trials, {
        ...(paths.reference === undefined ? {} : { reference: paths.reference }),
        ...(paths.title === undefined ? {} : { title: paths.title }),
      }),
    );
  }
  const recipe = bestRecipe(result);
  if (paths.recipe !== undefined && recipe !== null) await writeRecipe(paths.recipe, recipe);
}

/**
 * The guides' code must compile: every ```ts block of `docs/guides/*.md` is type-checked against
 * the library's source with the repository's compiler options, as a user would write it
 * (`import … from 'kws-kit'` / `'kws-kit/<area>'` resolve to `src/index.ts` / `src/<area>/index.ts`).
 *
 * Markers (HTML comments on the lines just above a block, blank lines and other comments allowed
 * in between):
 * - `<!-- snippet: skip -->`: not checked (e.g. an API that is not exported yet);
 * - `<!-- snippet: continue -->`: checked together with the guide's previous checked block (the
 *   code is appended to it), so a guide can build an example step by step.
 *
 * Each snippet is written to a temporary `.ts` file and all of them are checked in one
 * `ts.createProgram`; only the snippets' own diagnostics are asked for, so the library is checked
 * only as far as the snippets use it. Relative links of the guides must point at files that exist,
 * and every guide must be listed in the `children` of `docs/guides/index.md` (typedoc's entry).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const GUIDES = join(REPO, 'docs/guides');
/** The guides' landing page: lists the guides as typedoc `children` in its frontmatter. */
const INDEX = 'index.md';
const FENCE_OPEN = /^```(ts|typescript)\s*$/;
const FENCE_ANY = /^```/;
const MARKER = /^<!--\s*snippet:\s*(skip|continue)\s*-->$/;

interface Snippet {
  /** Guide file name, e.g. `getting-started.md`. */
  guide: string;
  /** 1-based line of the first code line of the first block. */
  line: number;
  code: string;
}

/** Markers in the run of HTML comments and blank lines right above line `index`. */
function markersAbove(lines: readonly string[], index: number): Set<string> {
  const found = new Set<string>();
  for (let i = index - 1; i >= 0; i--) {
    const text = (lines[i] as string).trim();
    if (text === '') continue;
    if (!(text.startsWith('<!--') && text.endsWith('-->'))) break;
    const m = MARKER.exec(text);
    if (m !== null) found.add(m[1] as string);
  }
  return found;
}

/** The checked snippets of one guide (continued blocks merged) and the number skipped. */
function extractSnippets(guide: string, markdown: string): { snippets: Snippet[]; skipped: number } {
  const lines = markdown.split(/\r?\n/);
  const snippets: Snippet[] = [];
  let skipped = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i] as string;
    if (!FENCE_ANY.test(open)) continue;
    let end = i + 1;
    while (end < lines.length && !FENCE_ANY.test(lines[end] as string)) end++;
    if (FENCE_OPEN.test(open)) {
      const code = lines.slice(i + 1, end).join('\n');
      const markers = markersAbove(lines, i);
      const previous = snippets.at(-1);
      if (markers.has('skip')) skipped++;
      else if (markers.has('continue') && previous !== undefined) previous.code += `\n${code}`;
      else snippets.push({ guide, line: i + 2, code });
    }
    i = end;
  }
  return { snippets, skipped };
}

/** The repository's compiler options, plus what a snippet-only check needs. */
function compilerOptions(): ts.CompilerOptions {
  const configPath = join(REPO, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (read.error !== undefined)
    throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, REPO, undefined, configPath);
  return { ...parsed.options, noEmit: true, typeRoots: [join(REPO, 'node_modules/@types')] };
}

/** `kws-kit` → `src/index.ts`, `kws-kit/<area>` → `src/<area>/index.ts`; null for other names. */
function kwsKitSource(specifier: string): string | null {
  if (specifier === 'kws-kit') return join(REPO, 'src/index.ts');
  const m = /^kws-kit\/([a-z-]+)$/.exec(specifier);
  if (m === null) return null;
  const file = join(REPO, 'src', m[1] as string, 'index.ts');
  return existsSync(file) ? file : null;
}

function format(diagnostic: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (diagnostic.file === undefined || diagnostic.start === undefined) return text;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  return `snippet line ${line + 1}, column ${character + 1}: ${text}`;
}

function numbered(code: string): string {
  return code
    .split('\n')
    .map((l, i) => `${String(i + 1).padStart(3)} | ${l}`)
    .join('\n');
}

const guideFiles = existsSync(GUIDES)
  ? readdirSync(GUIDES)
      .filter((f) => f.endsWith('.md'))
      .sort()
  : [];
const extracted = guideFiles.map((guide) => {
  const markdown = readFileSync(join(GUIDES, guide), 'utf8');
  return { guide, markdown, ...extractSnippets(guide, markdown) };
});
const snippets = extracted.flatMap((e) => e.snippets);

const tempDir = mkdtempSync(join(tmpdir(), 'kws-kit-snippets-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

/** Type-checks every snippet in one program; diagnostics per snippet file. */
function checkSnippets(): Map<string, string[]> {
  const files = snippets.map((s, k) => {
    const file = join(tempDir, `${s.guide.replace(/\.md$/, '')}-${String(k).padStart(2, '0')}.ts`);
    // A block without import/export would be a script whose names clash with the others'.
    const module = /^\s*(import|export)\s/m.test(s.code) ? '' : '\nexport {};\n';
    writeFileSync(file, `${s.code}\n${module}`);
    return file;
  });
  const snippetFiles = new Set(files);
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  // Bare imports of a snippet resolve from the repository (its node_modules), as an installed
  // package's would; kws-kit itself resolves to the source.
  const repoAnchor = join(REPO, 'test/docs/snippet.ts');
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts) =>
    literals.map((literal) => {
      const name = literal.text;
      const source = kwsKitSource(name);
      if (source !== null) {
        return {
          resolvedModule: {
            resolvedFileName: source,
            extension: ts.Extension.Ts,
            isExternalLibraryImport: false,
          },
        };
      }
      const from = snippetFiles.has(containingFile) ? repoAnchor : containingFile;
      return ts.resolveModuleName(name, from, opts, host, undefined, redirected);
    });
  const program = ts.createProgram({ rootNames: files, options, host });
  const result = new Map<string, string[]>();
  files.forEach((file, k) => {
    const sf = program.getSourceFile(file);
    const diagnostics =
      sf === undefined ? [] : [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    result.set(String(k), sf === undefined ? [`cannot read ${file}`] : diagnostics.map(format));
  });
  return result;
}

describe('docs/guides snippets', () => {
  it('finds the guides and their ts blocks', () => {
    expect(guideFiles.length).toBeGreaterThan(0);
    for (const e of extracted.filter((x) => x.guide !== INDEX)) {
      // A guide without a single checked block is a guide whose code nobody verifies.
      expect(e.snippets.length, `${e.guide} has no checked ts block`).toBeGreaterThan(0);
    }
  });

  it('type-checks every snippet against src with zero diagnostics', () => {
    const results = checkSnippets();
    const failures: string[] = [];
    snippets.forEach((s, k) => {
      const errors = results.get(String(k)) ?? [];
      if (errors.length > 0) {
        failures.push(
          `${s.guide}:${s.line}\n${numbered(s.code)}\n${errors.map((e) => `  ✗ ${e}`).join('\n')}`,
        );
      }
    });
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('every guide is a child of the landing page (else typedoc leaves it out of the site)', () => {
    const index = extracted.find((e) => e.guide === INDEX);
    expect(index, `docs/guides/${INDEX} is missing`).toBeDefined();
    const frontmatter = /^---\n([\s\S]*?)\n---/.exec(index?.markdown ?? '')?.[1] ?? '';
    const children = [...frontmatter.matchAll(/^\s+-\s+(\S+\.md)\s*$/gm)].map((m) => m[1]);
    expect(children.sort()).toEqual(guideFiles.filter((g) => g !== INDEX));
  });

  it('relative links of the guides point at existing files', () => {
    const broken: string[] = [];
    for (const { guide, markdown } of extracted) {
      // Links outside code: [text](target), target without scheme or leading '#'.
      const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
      for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (m[1] as string).split('#')[0] as string;
        if (target === '' || /^[a-z]+:/i.test(target)) continue;
        if (!existsSync(resolve(dirname(join(GUIDES, guide)), target))) broken.push(`${guide}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

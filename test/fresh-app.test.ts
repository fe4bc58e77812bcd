/**
 * The packed tarball in a fresh CDK app outside the repository, as a user gets it: installed with
 * aws-cdk-lib and constructs (from the npm cache where it has them, else the registry; `npm ci`
 * caches tarballs but not the registry's metadata that a fresh install resolves versions with), no
 * esbuild, no Docker; the
 * README's quick start written into it, type-checked against the published typings, synthesized
 * with `cdk synth`, with every handler asset present.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { snippetModule, typescriptModules, typescriptSnippets } from './support/readme-snippets';

const root = path.join(__dirname, '..');

test('the packed library installs into a fresh app and synthesizes the README quick start', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'fresh-app-'));
  try {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    const tarball = path.join(work, packed.filename);
    const ours = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'fresh-app',
        private: true,
        dependencies: {
          'cdk-face-stream-pipeline': `file:${tarball}`,
          'aws-cdk-lib': ours.devDependencies['aws-cdk-lib'],
          'constructs': ours.devDependencies.constructs,
          '@types/aws-lambda': ours.devDependencies['@types/aws-lambda'],
        },
      }),
    );
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: app, stdio: 'pipe' });
    expect(existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);

    const [quickStart, ...others] = typescriptSnippets();
    const source = `${snippetModule(quickStart, 'cdk-face-stream-pipeline')}\nconst app = new App();\nnew Snippet(app);\napp.synth();\n`;
    writeFileSync(path.join(app, 'app.ts'), source);
    // every other README snippet (the ScheduleExpression one among them) and the typed event handler
    // compile against the published typings too
    const extra = [
      ...others.map((snippet, i) => [`snippet-${i}.ts`, snippetModule(snippet, 'cdk-face-stream-pipeline')]),
      ...typescriptModules().map((module, i) => [`module-${i}.ts`, module]),
    ];
    for (const [file, text] of extra) {
      writeFileSync(path.join(app, file), text);
    }
    expect(extra.some(([, text]) => text.includes("from 'cdk-face-stream-pipeline/events'"))).toBe(true);
    expect(extra.some(([, text]) => text.includes('ScheduleExpression.cron('))).toBe(true);
    const program = ts.createProgram([path.join(app, 'app.ts'), ...extra.map(([file]) => path.join(app, file))], {
      strict: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      types: [],
      outDir: path.join(app, 'build'),
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
    ts.createProgram([path.join(app, 'app.ts')], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true, skipLibCheck: true, outDir: app }).emit();

    const out = path.join(work, 'cdk.out');
    execFileSync(path.join(root, 'node_modules', '.bin', 'cdk'), ['synth', '--app', 'node app.js', '--output', out, '--quiet', '--no-notices'], {
      cwd: app,
      stdio: 'pipe',
      env: {
        PATH: process.env.PATH,
        HOME: work,
        CDK_DISABLE_VERSION_CHECK: '1',
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        // any attempt to bundle with Docker fails
        CDK_DOCKER: '/bin/false',
        AWS_CONFIG_FILE: path.join(work, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'none'),
      },
    });
    const template = JSON.parse(readFileSync(path.join(out, 'Snippet.template.json'), 'utf8'));
    const types = Object.values<any>(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'Custom::RekognitionStreamProcessor')).toHaveLength(2);
    expect(types).toEqual(expect.arrayContaining(['AWS::KinesisVideo::Stream', 'AWS::Rekognition::Collection', 'AWS::Lambda::EventSourceMapping', 'AWS::Events::Rule']));
    // every Lambda asset is a staged folder with the prebuilt index.js
    const assets = readdirSync(out).filter((name) => name.startsWith('asset.'));
    const handlers = assets.filter((name) => existsSync(path.join(out, name, 'index.js')));
    const bundles = handlers.map((name) => readFileSync(path.join(out, name, 'index.js'), 'utf8'));
    expect(bundles.some((code) => code.includes('CreateStreamProcessor'))).toBe(true);
    expect(bundles.some((code) => code.includes('Face Not Matched'))).toBe(true);
    expect(bundles.some((code) => code.includes('IndexFaces'))).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 300_000);

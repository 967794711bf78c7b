// Where the JS v3 example clients get the AWS SDK from: their own pinned node_modules
// (package-lock.json), or, in a row of an SDK version matrix, the row's npm prefix.
//
// ES modules ignore NODE_PATH, so a bare `import "@aws-sdk/client-s3"` here always finds the
// pinned node_modules beside this file. When sts-harness runs a client in a matrix row
// (`versions = { "@aws-sdk/client-s3" = [...] }`) it sets STS_LAB_NODE_MODULES to the row's
// node_modules; the SDK is then loaded from there and only from there (createRequire rooted in
// that folder, which is not under this one, so a package the row lacks fails to load rather
// than coming from the pinned set).
//
// A row names one package, @aws-sdk/client-s3, and takes what that release brings: the
// default credential chain is the `defaultProvider` of the @aws-sdk/credential-provider-node
// that this client-s3 depends on (what `new S3Client({})` uses; the pinned clients'
// fromNodeProviderChain is a thin wrapper over the same function), with the @aws-sdk/core and
// @smithy/core it resolves. @aws-sdk/client-sts comes from the row when the row has it (older
// client-s3 releases depend on it; name it in the run's `versions` otherwise): a row without
// it fails the first STS call naming it.
//
// In a row, one line on stderr names every SDK package loaded, its version and folder, so the
// row's output proves which release ran:
//
//     sts-lab sdk: @aws-sdk/client-s3 3.723.0, @aws-sdk/credential-provider-node 3.723.0, ...

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** The row's node_modules, when the harness runs this client in a version matrix row. */
export const ROW_NODE_MODULES = process.env.STS_LAB_NODE_MODULES || undefined;

// Resolves from the row's folder: the file need not exist, only its directory.
const rowRequire = ROW_NODE_MODULES
  ? createRequire(path.join(path.resolve(ROW_NODE_MODULES), "sts-lab-row.cjs"))
  : undefined;

/** `name`'s version as `from` resolves it: the package.json above its entry point. */
function version(from, name) {
  let dir = path.dirname(from.resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
      if (manifest.name === name) return manifest.version;
    } catch {
      // No package.json here: look further up.
    }
    const up = path.dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}

/** A require function resolving as `name`'s own code does (its dependencies, its release). */
function beside(from, name) {
  return createRequire(from.resolve(name));
}

/** Whether `from` can resolve `name`. */
function has(from, name) {
  try {
    from.resolve(name);
    return true;
  } catch {
    return false;
  }
}

// Loaded here, before lab.mjs takes the job's start time, as the static imports they replace
// were: module loading at x360 costs simulated minutes.
let S3;
let STS;
let chainFactory;
if (!rowRequire) {
  S3 = await import("@aws-sdk/client-s3");
  STS = await import("@aws-sdk/client-sts");
  chainFactory = (await import("@aws-sdk/credential-providers")).fromNodeProviderChain;
} else {
  S3 = rowRequire("@aws-sdk/client-s3");
  const s3 = beside(rowRequire, "@aws-sdk/client-s3");
  chainFactory = s3("@aws-sdk/credential-provider-node").defaultProvider;
  STS = has(rowRequire, "@aws-sdk/client-sts") ? rowRequire("@aws-sdk/client-sts") : undefined;
  const loaded = [
    `@aws-sdk/client-s3 ${version(rowRequire, "@aws-sdk/client-s3")}`,
    `@aws-sdk/credential-provider-node ${version(s3, "@aws-sdk/credential-provider-node")}`,
    ...(STS ? [`@aws-sdk/client-sts ${version(rowRequire, "@aws-sdk/client-sts")}`] : []),
    ...["@aws-sdk/core", "@smithy/core"]
      .filter((name) => has(s3, name))
      .map((name) => `${name} ${version(s3, name)}`),
  ];
  console.error(`sts-lab sdk: ${loaded.join(", ")} from ${ROW_NODE_MODULES}`);
}

/** The S3 client module (@aws-sdk/client-s3). */
export { S3 };

/** Whether the STS client module is loaded (always, outside a row). */
export const STS_LOADED = STS !== undefined;

/**
 * The STS client module (@aws-sdk/client-sts); throws, naming it, in a row that lacks it.
 */
export function sts() {
  if (STS) return STS;
  throw new Error(
    `@aws-sdk/client-sts is not in this row's environment (${ROW_NODE_MODULES}): ` +
      `its @aws-sdk/client-s3 does not bring it; name it in the run's versions`,
  );
}

/**
 * A new default credential chain: the pinned @aws-sdk/credential-providers'
 * fromNodeProviderChain(), or in a row the defaultProvider() of the
 * @aws-sdk/credential-provider-node its client-s3 depends on.
 */
export function defaultChain() {
  return chainFactory({});
}

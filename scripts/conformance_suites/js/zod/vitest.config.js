// zod's tests as its repository runs them: vitest resolves "zod/v3",
// "zod/v4", ... (the package importing itself) through the "@zod/source"
// export condition to src/, so the tests exercise the sources they sit in.
// (A plain object: defineConfig only types it.)
export default {
  resolve: { conditions: ["@zod/source"] },
  ssr: { resolve: { conditions: ["@zod/source"] } },
  test: { include: ["src/**/*.test.ts"], watch: false },
};

// Worker entry: registers the TypeScript loader in this thread (workers do not inherit it), then runs the worker.
import { register } from "tsx/esm/api";

register();
await import("./search-worker.ts");

/** The file sink's configuration (an entry of `sinks` with kind "file"). */
import { join, resolve } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import { type SinkKind, sinkBase } from "../sink-config.ts";
import { FileSink } from "./file-sink.ts";

export const FileSinkSchema = Type.Object(
  {
    kind: Type.Literal("file"),
    ...sinkBase,
    dir: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Directory for NDJSON files; default <dataDir>/events.",
      }),
    ),
    maxFileBytes: Type.Integer({
      minimum: 1024,
      default: 128 * 1024 * 1024,
      description: "Rotate to a new file past this size (files also rotate each UTC day).",
    }),
    minFreeBytes: Type.Integer({
      minimum: 0,
      default: 64 * 1024 * 1024,
      description:
        "Stop writing (and retry later) while the files' disk has less free space than this.",
    }),
  },
  { additionalProperties: false },
);

export type FileSinkConfig = Static<typeof FileSinkSchema>;

export const fileSinkKind: SinkKind<typeof FileSinkSchema> = {
  kind: "file",
  schema: FileSinkSchema,
  create: (c, dataDir) =>
    new FileSink({
      name: c.name,
      dir: c.dir ? resolve(c.dir) : join(dataDir, "events"),
      maxFileBytes: c.maxFileBytes,
      minFreeBytes: c.minFreeBytes,
    }),
};

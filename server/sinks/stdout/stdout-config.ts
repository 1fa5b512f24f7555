/** The stdout sink's configuration (an entry of `sinks` with kind "stdout"). */
import { Type } from "@sinclair/typebox";
import { type SinkKind, sinkBase } from "../sink-config.ts";
import { StdoutSink } from "./stdout-sink.ts";

export const StdoutSinkSchema = Type.Object(
  { kind: Type.Literal("stdout"), ...sinkBase },
  { additionalProperties: false },
);

export const stdoutSinkKind: SinkKind<typeof StdoutSinkSchema> = {
  kind: "stdout",
  schema: StdoutSinkSchema,
  create: (c) => new StdoutSink(c.name),
};

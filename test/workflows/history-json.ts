/**
 * History <-> proto JSON for the replay fixtures.
 *
 * The SDK's historyToJSON/historyFromJSON (@temporalio/common/lib/proto-utils) throw "type must be a Type" in
 * this install: npm gave @temporalio/common and @temporalio/proto separate nested copies of protobufjs 8 (the
 * root holds protobufjs 7 for @grpc/proto-loader), and protojson checks `instanceof Type` across the two. Here
 * protojson is loaded from @temporalio/proto's own copy, the one its types are built with.
 */
import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils.js';

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}
interface HistoryCtor {
  fromObject(o: unknown): unknown;
}

const require = createRequire(import.meta.url);
const protoPath = require.resolve('@temporalio/proto');
const proto = require('@temporalio/proto') as {
  temporal: { api: { history: { v1: { History: HistoryCtor } } } };
};
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot(root: unknown): { lookupType(name: string): unknown };
};
const protojson = createRequire(protoPath)('protobufjs/ext/protojson') as ProtoJson;
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

export function historyToJSON(history: History): string {
  return JSON.stringify(
    protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)),
    null,
    2,
  );
}

export function historyFromJSON(json: unknown): History {
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}

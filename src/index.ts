/**
 * DataJoint for TypeScript — public API (see API.md).
 *   import * as dj from 'datajoint';
 */
import './codecs/builtin.js';

export { config, Config } from './config.js';
export { Connection, conn, closeAll, listSchemas } from './connection/connection.js';
export type { ConnectionOptions } from './connection/connection.js';
export { Schema, schema } from './schema/schema.js';
export { virtualSchema } from './schema/virtual.js';
export type { SchemaOptions, SchemaDecorator } from './schema/schema.js';
export { Table } from './table/table.js';
export type { TableClass, InsertOptions, DeleteOptions, DropOptions, ValidationResult } from './table/table.js';
export { Manual, Lookup, Part } from './table/tiers.js';
export { Imported, Computed } from './populate/auto-populate.js';
export { FreeTable } from './table/free-table.js';
export { QueryExpression } from './expression/expression.js';
export { Not, not } from './expression/condition.js';
export type { Heading, Attribute } from './heading/heading.js';
export type { Row, Column, FetchOptions } from './fetch/fetch.js';
export { Codec } from './codecs/codec.js';
export { registerCodec, getCodec, listCodecs } from './codecs/registry.js';
export type { CodecLike, CodecContext } from './codecs/codec.js';
export {
  errors,
  DataJointError,
  DuplicateError,
  IntegrityError,
  ReferencedRowError,
  UnknownAttributeError,
  TableChangedError,
  MissingAttributeError,
  MissingTableError,
  QueryError,
  QuerySyntaxError,
  AccessError,
  LostConnectionError,
  ConnectError,
  DeadlockError,
  TransactionAbortedError,
  PoolTimeoutError,
  BackendUnavailableError,
  AttributeTypeError,
  MissingExternalFile,
  BucketInaccessible,
  DeclarationError,
} from './errors.js';
export * as blob from './blob/index.js';
export { NDArray } from './blob/index.js';
export type { PopulateOptions, PopulateResult } from './populate/populate.js';
export { FetchedDataChanged, PopulateInterrupted } from './populate/populate.js';
export { WorkerCrashedError } from './populate/worker-errors.js';
export { DetachedData, UnsendableValue } from './populate/transfer.js';
export type { Jobs, JobsProgress, RefreshOptions, RefreshResult } from './populate/jobs.js';
export { U, UniversalSet, Top, top, DerivedExpression } from './expression/public.js';
export type { JoinOptions, AggrOptions, RestrictOptions, Operand, ProjArg, AggrArg, ArrowOptions } from './expression/public.js';
export { Diagram } from './diagram/diagram.js';
export type { DiagramSource, DiagramEdge, DiagramDrawOptions, DiagramSchemaLike, DiagramTableLike } from './diagram/diagram.js';
export * as embedded from './embedded.js';
export { ObjectRef } from './objects/object-ref.js';
export type { ZarrReadStore } from './objects/object-ref.js';
export { getStore, registerStoreProtocol, closeStores } from './stores/registry.js';
export type { StoreSpec } from './stores/registry.js';
export type { ObjectStore, StoreEntry, PutData } from './stores/store.js';
export type { ObjectMetadata } from './stores/metadata.js';
export type { ActivateOptions } from './schema/schema.js';
export type { CascadeSource, CascadeOptions } from './diagram/diagram.js';
export type { PartIntegrity } from './table/cascade.js';
export type { DependencyOptions, DependencyResult, AlterOptions } from './table/table.js';
export type { ArraysOptions } from './fetch/fetch.js';
export { gc } from './stores/gc.js';
export type { GcOptions, GcResult } from './stores/gc.js';
export type { NpyRef } from './codecs/builtin/npy.js';
export type { StagedInsert, StagedZarrStore } from './objects/staged-insert.js';
export type { ObjectData } from './codecs/builtin/object.js';

/**
 * The edge API's shapes (docs/api.md). The core's own types are reused wherever the contract
 * names them, so the browser and the edge cannot drift apart silently.
 */
import type {
  ConnectorKind,
  LinkConfig,
  Op,
  OpOutcome,
  PlanCounts,
  RecordKind,
  Reconciliation,
  Resolution,
  RunTally,
  Side,
  Snapshot,
  StaleResolution
} from '$lib/core';

export type { LinkConfig, Reconciliation, Resolution, Snapshot, StaleResolution };

/** Roles in order of power: each may do everything the ones before it may. */
export const ROLES = ['viewer', 'reviewer', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export interface Me {
  subject: string;
  role: Role;
  via: 'token' | 'access';
}

export interface SnapshotSummary {
  takenAt: string;
  version: string;
  people: number;
  groups: number;
  memberships: number;
}

export interface SystemView {
  id: string;
  name: string;
  connector: ConnectorKind;
  baseUrl: string;
  region: string;
  createdAt: string;
  hasCredentials: boolean;
  lastSnapshot?: SnapshotSummary;
}

export interface NewSystem {
  name: string;
  connector: ConnectorKind;
  baseUrl: string;
  region: string;
  credentials?: { token: string };
}

export interface RunSummary {
  id: string;
  linkId: string;
  dryRun: boolean;
  startedBy: { kind: 'person' | 'schedule' | 'undo'; subject?: string };
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  counts: PlanCounts;
  tally: RunTally;
  /** Why a run failed (`source-failed`: a system could not be read or was empty; nothing was written). */
  error?: { code: string; message: string; system?: string };
  undoOf?: string;
  undoneBy?: string;
}

export interface RunDetail extends RunSummary {
  ops: { op: Op; outcome?: OpOutcome }[];
}

export interface LinkStatus {
  enabled: boolean;
  running?: string;
  lastRun?: RunSummary;
  nextRunAt?: string;
  requiresAction: number;
  staged: number;
}

export interface LinkView {
  config: LinkConfig;
  status: LinkStatus;
}

export type NewLink = Partial<LinkConfig> & Pick<LinkConfig, 'name' | 'mode' | 'systems'>;

export interface ResolutionsAnswer {
  accepted: string[];
  stale: StaleResolution[];
}

export interface StagedDeletes {
  conflictId: string;
  kind: RecordKind | 'membership';
  side: Side;
  count: number;
  total: number;
  limit: { count: number; percent: number };
  ops: Op[];
}

export interface ProgressEvent {
  status: RunSummary['status'];
  tally: RunTally;
}

export type { CsvColumns } from './csv-columns';

/** What an accepted upload holds (PUT /api/systems/:id/csv). */
export interface CsvCounts {
  people: number;
  groups: number;
  memberships: number;
}

/** A bearer token as listed (GET /api/tokens): never the token itself. */
export interface TokenView {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** A token just issued: the only time `token` is ever seen. */
export interface IssuedToken {
  id: string;
  name: string;
  role: Role;
  token: string;
}

/** One problem the edge names in a 400 answer (validation or a CSV row). */
export interface ApiIssue {
  record?: string;
  field?: string;
  row?: number;
  column?: string;
  message: string;
}

export interface ApiErrorBody {
  error: string;
  message?: string;
  issues?: ApiIssue[];
  requiresAction?: number;
}

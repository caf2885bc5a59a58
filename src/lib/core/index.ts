/**
 * The pure core of Rostersync, shared by the browser's Web Worker and the edge's Durable Objects.
 * No DOM, no storage, no platform imports: plain data in, plain data out, the clock passed in.
 */
export * from './model';
export * from './ops';
export { normalize, ruleFor, DEFAULT_RULE, FIELD_RULES, type NormalizeRule } from './normalize';
export { fnv1a, canonicalJson, recordVersion, digest64 } from './digest';
export {
	toLocal as toLocalTime,
	fromLocal,
	addLocalDays,
	nextDailyRun,
	offsetAt,
	isTimeZone,
	type LocalTime
} from './time';
export {
	DEFAULT_PERSON_FIELDS,
	getPersonField,
	setPersonField,
	setGroupField,
	personFieldSpecs,
	writableFields,
	type WritableFields,
	joinList,
	splitList
} from './fields';
export { merge3, mergeMember, diffRecord, type Merge, type RecordDiff, type FieldConflict } from './diff';
export { match, type MatchInput, type MatchResult, type MatchPass } from './match';
export { conflictId, PAIR_NOTES, type PairView, type PairNote } from './context';
export { reconcile, type ReconcileInput, type Reconciliation, type SituationCounts } from './reconcile';
export { countOps, type Plan, type PlanCounts, type DraftEntry, type DraftMember } from './plan';
export { ReconcileError, DEFAULT_LIMIT, assertUsable } from './safety';
export {
	lifecycleStep,
	isRestorable,
	anonymizedValues,
	retention,
	plannedRemoval,
	type LifecycleAction,
	type LifecycleContext,
	type Retention
} from './lifecycle';
export {
	runPlan,
	tally,
	resolver,
	refsOf,
	dependenciesOf,
	OUTCOME_STATUSES,
	type OpOutcome,
	type OutcomeStatus,
	type Applier,
	type BatchApplier,
	type RunDeps,
	type RunTally
} from './runner';
export { planBatches, isPlainMembership, isBulkable, NO_BATCHING, type Batch, type BatchPolicy } from './batch';
export { commitBaseline } from './baseline';
export {
	planUndo,
	recreatedIds,
	restoredEntry,
	revertChanges,
	type BaselineChange,
	type RecreatedIds,
	type UndoPlan
} from './undo';
export { Directory, DirectoryError, type Notice } from './directory';
export {
	planRule,
	planRuleOff,
	commitRuleJournal,
	ruleWants,
	RULE_SCOPES,
	type Rule,
	type RuleJournal,
	type RulePlan,
	type RuleScope
} from './rules';
export {
	previewRule,
	ruleWarnings,
	pageRulePeople,
	personChange,
	RULE_WARNING_CODES,
	RULE_CHANGE_KINDS,
	type RuleWarning,
	type RuleWarningCode,
	type RuleChangeKind,
	type RulePersonChange,
	type RulePreviewResult,
	type OtherRule
} from './rule-preview';
export { planRuleUndo, pruneRuleJournal, type RuleRunRecord, type RuleUndoPlan } from './rule-undo';
export type { RuleOwned } from './context';
export { parseSnapshot, snapshotVersion, SnapshotParser, MAX_ISSUES } from './snapshot';
export { VersionAccumulator } from './version';
export {
	parseLinkConfig,
	parseResolutions,
	ValidationError,
	formatIssue,
	validateRecords,
	PersonSchema,
	GroupSchema,
	MembershipSchema,
	LinkConfigSchema,
	ResolutionSchema,
	type InputIssue
} from './schema';
export { makeLink } from './link';
export { linkChangeIssues, patchedLink, scheduleMoved, type LinkChangeIssue, type LinkState } from './link-policy';
export {
	finalStatus,
	isUndoBarrier,
	stopRefusal,
	undoRefusal,
	RUN_STATUSES,
	STOP_REFUSALS,
	UNDO_REFUSALS,
	type FinalStatus,
	type PolicyRefusal,
	type RunEnding,
	type RunFacts,
	type RunStatus,
	type StopContext,
	type StopRefusal,
	type UndoContext,
	type UndoRefusal
} from './run-policy';
export type { StaleResolution } from './resolutions';
export { PartitionIndex, partCount } from './partition';
export {
	PartMerger,
	groupDraftKey,
	resolutionsByPart,
	indexPeople,
	cutPart,
	reconcileInParts,
	type PartInput,
	type PartSink,
	type MergedParts
} from './parts';
export {
	assemblePlan,
	mergeGroupDraft,
	personRemovalKey,
	MemoryPlanRows,
	type PlanRows,
	type EntryKey
} from './plan-rows';
export {
	assertCounts,
	baselineHad,
	countsOf,
	ownedCounts,
	shrinkage,
	type Shrinkage,
	LIMIT_KINDS,
	type OwnedCounts,
	type SideCounts,
	type LimitKind,
	CREATION_KINDS,
	DEFAULT_CREATION_LIMIT,
	creationKind,
	creationThresholdPrefix,
	type CreationKind
} from './safety';
export {
	groupIrreversible,
	irreversibleReason,
	opsDigest,
	previewOps,
	type IrreversibleGroup,
	type OpsPreview
} from './preview';
export {
	ACCESS_FIELDS,
	NO_ACCESS,
	accessCounts,
	accessStep,
	accessVia,
	hasAccess,
	planAccess,
	wantsAccess,
	type AccessVia
} from './access';

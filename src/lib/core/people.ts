/** People: match, diff, and plan creates, updates, removals and the removal lifecycle. */
import {
	conflictId,
	createdRef,
	idRef,
	pairConflictId,
	type PairNote,
	type PersonLink,
	type ReconcileContext
} from './context';
import { diffRecord } from './diff';
import { readValues, setPersonField, toLocal } from './fields';
import { anonymizedValues, lifecycleStep } from './lifecycle';
import { match, type MatchPass, type Pair } from './match';
import type { BaselineEntry, FieldValue, FieldValues, LinkConfig, MatchField, Person, Side } from './model';
import { otherSide, SIDES } from './model';
import { normalize, ruleFor } from './normalize';
import { STEP } from './ops';
import { chosenSide } from './resolutions';
import { groupsOfPerson, indexMembers, stretchesOf } from './side-index';

/** Reads the link's match field on a side, normalized (custom fields through the field map). */
export function matchFieldReader(
	link: Pick<LinkConfig, 'fieldMap' | 'normalization'>,
	field: MatchField
): (p: Person, side: Side) => string {
	const rule = ruleFor(field, link.normalization);
	if (field.startsWith('custom:')) {
		const aName = field.slice('custom:'.length);
		const bName = link.fieldMap.find((m) => m.a === aName)?.b ?? aName;
		return (p, side) => normalize(p.custom?.[side === 'a' ? aName : bName], rule);
	}
	const key = field as Exclude<MatchField, `custom:${string}`>;
	return (p) => normalize(p[key], rule);
}

/** Identifier first, then the link's chosen field. */
export function personPasses(link: LinkConfig): MatchPass<Person>[] {
	const idRule = ruleFor('externalId', link.normalization);
	const byId: MatchPass<Person> = { name: 'externalId', key: (p) => normalize(p.externalId, idRule) };
	if (link.match.person === 'externalId') return [byId];
	return [byId, { name: link.match.person, key: matchFieldReader(link, link.match.person) }];
}

/** A new record for side `to`, carrying the synced values of `source` from side `from`. */
function personFor(ctx: ReconcileContext, source: Person, from: Side, to: Side): Omit<Person, 'id'> {
	const record: Person = { id: '', displayName: source.displayName, active: source.active };
	if (source.externalId) record.externalId = source.externalId;
	for (const [k, v] of Object.entries(toLocal(readValues(source, ctx.personSpecs, from), ctx.personSpecs, to)))
		setPersonField(record, k, v);
	const { id: _id, ...rest } = record;
	return rest;
}

function planCreate(
	ctx: ReconcileContext,
	source: Person,
	from: Side,
	note?: PairNote,
	/** The pairing whose record on the other side this create remakes (see DraftEntry.recreates). */
	replaces?: BaselineEntry
): string {
	const to = otherSide(from);
	const key = ctx.builder.add({
		type: 'create-person',
		side: to,
		step: STEP.people,
		record: personFor(ctx, source, from, to),
		from: source.id
	});
	const refs = from === 'a' ? { a: idRef(source.id), b: createdRef(key) } : { a: createdRef(key), b: idRef(source.id) };
	ctx.linkPerson({ [from]: source.id }, from === 'a' ? { bNew: key } : { aNew: key });
	const invite =
		ctx.provision && note !== 'recreate'
			? ctx.builder.add({ type: 'invite', side: to, step: STEP.notices, person: createdRef(key) })
			: undefined;
	ctx.drafts.push({
		kind: 'person',
		...refs,
		origin: 'created',
		fields: readValues(source, ctx.personSpecs, from),
		opKeys: [key],
		...(replaces ? { previous: replaces, recreates: to } : {}),
		...(invite ? { invite } : {})
	});
	ctx.view({ kind: 'person', [from]: source.id, situation: 'create', to, note });
	return key;
}

/**
 * The survivor's counterpart is gone: remove it (soft first), or anonymize once retention ends.
 * Answers the key of the operation that does it (none while the lifecycle waits).
 */
function planRemoval(
	ctx: ReconcileContext,
	entry: BaselineEntry,
	survivor: Person,
	on: Side,
	link: PersonLink
): string | undefined {
	const step = lifecycleStep(entry.lifecycle, false, ctx.lifecycle);
	const target = idRef(survivor.id);
	const draft = {
		kind: 'person' as const,
		a: idRef(entry.a),
		b: idRef(entry.b),
		origin: entry.origin,
		fields: entry.fields,
		previous: entry
	};
	if (step.action === null) {
		ctx.keep(entry);
		return undefined;
	}
	if (step.action === 'anonymize') {
		const key = ctx.builder.add({
			type: 'anonymize-person',
			side: on,
			step: STEP.peopleRemovals,
			target,
			values: anonymizedValues(survivor),
			before: survivor
		});
		ctx.drafts.push({ ...draft, lifecycle: { ...step.next, on }, opKeys: [key] });
		ctx.view({ kind: 'person', [on]: survivor.id, situation: 'remove', to: on, note: 'anonymize' });
		return key;
	}
	const soft = ctx.link.removeMode === 'deactivate';
	const beforeMembers = ctx.journalMembers(on, survivor.id, link);
	const key = ctx.builder.add({
		type: 'remove-person',
		side: on,
		step: STEP.peopleRemovals,
		target,
		soft,
		before: survivor,
		beforeMembers
	});
	ctx.drafts.push({ ...draft, lifecycle: soft ? { ...step.next, on } : undefined, opKeys: [key], retire: !soft });
	ctx.viewByOp.set(key, ctx.view({ kind: 'person', [on]: survivor.id, situation: 'remove', to: on }));
	return key;
}

/** True when a record changed since sync last wrote it. */
function changedSince(ctx: ReconcileContext, entry: BaselineEntry, record: Person, side: Side): boolean {
	return ctx.personSpecs.some((s) => s.key in entry.fields && s.read(record, side) !== entry.fields[s.key]);
}

function updateOps(ctx: ReconcileContext, a: Person, b: Person, toA: FieldValues, toB: FieldValues): string[] {
	const keys: string[] = [];
	for (const [to, values, target] of [
		['a', toA, a],
		['b', toB, b]
	] as const) {
		if (Object.keys(values).length === 0) continue;
		const before: FieldValues = {};
		for (const spec of ctx.personSpecs) if (spec.key in values) before[spec.local[to]] = spec.read(target, to);
		const local = toLocal(values, ctx.personSpecs, to);
		keys.push(
			ctx.builder.add({
				type: 'update-person',
				side: to,
				step: STEP.people,
				target: idRef(target.id),
				values: local,
				before
			})
		);
	}
	return keys;
}

function reconcilePair(
	ctx: ReconcileContext,
	a: Person,
	b: Person,
	entry: BaselineEntry | undefined,
	writes: Map<Person, FieldValues>,
	authority: (field: string) => Side
): void {
	const { resolutions } = ctx;
	const resolution = ctx.resolutionFor('person', a.id, b.id);
	const diff = diffRecord(
		ctx.personSpecs,
		a,
		b,
		ctx.provision ? undefined : entry?.fields,
		authority,
		resolution && ((f) => chosenSide(resolution, f))
	);
	if (diff && diff.conflicts.length > 0) {
		ctx.conflict('person', 'both-changed', [ctx.ref('a', 'person', a), ctx.ref('b', 'person', b)], {
			fields: diff.conflicts
		});
		ctx.view({
			kind: 'person',
			a: a.id,
			b: b.id,
			situation: 'conflict',
			fields: diff.changed,
			conflictId: pairConflictId('person', a.id, b.id)
		});
		ctx.linkPerson({ a: a.id, b: b.id }, { deferred: true });
		if (entry) ctx.keep(entry);
		return;
	}
	ctx.linkPerson({ a: a.id, b: b.id });
	// Only now, past the conflict: a pair waiting for a person is neither restored nor adopted.
	let opKeys: string[] | undefined;
	let note: PairNote | undefined;
	let adoption: string | undefined;
	const removedOn = entry?.lifecycle?.state === 'removed' ? (entry.lifecycle.on ?? 'b') : undefined;
	if (removedOn) {
		(opKeys ??= []).push(
			ctx.builder.add({
				type: 'restore-person',
				side: removedOn,
				step: STEP.people,
				target: idRef((removedOn === 'a' ? a : b).id)
			})
		);
		note = 'restore';
	}
	if (ctx.provision && !entry) {
		adoption = ctx.builder.add({ type: 'adopt-person', side: 'b', step: STEP.people, target: idRef(b.id) });
		(opKeys ??= []).push(adoption);
		note = 'adopt';
	}
	if (resolution && diff) {
		resolutions.applied.add(pairConflictId('person', a.id, b.id));
		note = 'resolved';
	}
	if (diff) {
		opKeys = [...(opKeys ?? []), ...updateOps(ctx, a, b, diff.toA, diff.toB)];
		if (Object.keys(diff.toA).length > 0) writes.set(a, diff.toA);
		if (Object.keys(diff.toB).length > 0) writes.set(b, diff.toB);
		if (diff.firstSync && !note && !ctx.provision && diff.changed.length > 0) note = 'first-sync';
	}
	const toA = diff && Object.keys(diff.toA).length > 0;
	const toB = diff && Object.keys(diff.toB).length > 0;
	const view = ctx.view({
		kind: 'person',
		a: a.id,
		b: b.id,
		situation: opKeys?.length ? 'update' : 'in-sync',
		fields: diff?.changed.length ? diff.changed : undefined,
		to: toA && toB ? 'both' : toA ? 'a' : toB ? 'b' : undefined,
		note
	});
	if (ctx.provision) ctx.personViews.set(a.id, view);
	// An invitation a stopped or given-up run never sent goes out now.
	const invite =
		ctx.provision && entry?.invite === 'pending'
			? ctx.builder.add({ type: 'invite', side: 'b', step: STEP.notices, person: idRef(b.id) })
			: undefined;
	if (!diff && !opKeys?.length && !invite && entry) return ctx.keep(entry);
	ctx.drafts.push({
		kind: 'person',
		a: idRef(a.id),
		b: idRef(b.id),
		origin: entry?.origin ?? (ctx.provision ? 'adopted' : 'matched'),
		fields: diff?.merged ?? entry?.fields ?? readValues(a, ctx.personSpecs, 'a'),
		opKeys: opKeys ?? [],
		previous: entry,
		...(adoption ? { adoption: { opKey: adoption, fields: readValues(b, ctx.personSpecs, 'b') } } : {}),
		...(invite ? { invite } : {})
	});
}

/** A baseline pair lost a record on one side. */
function reconcileBroken(
	ctx: ReconcileContext,
	entry: BaselineEntry,
	a: Person | undefined,
	b: Person | undefined,
	/** Collects the people whose record on the other side this plan makes again. */
	recreated: Record<Side, Person[]>
): void {
	if (!a && !b) return;
	if (ctx.provision) {
		if (b) {
			planRemoval(ctx, entry, b, 'b', ctx.linkPerson({ a: entry.a, b: b.id }, { aGone: true }));
		} else if (a) {
			// Source is the truth: a synced account deleted by hand on the target comes back.
			planCreate(ctx, a, 'a', 'recreate', entry);
			recreated.a.push(a);
		}
		return;
	}
	const survivor = (a ?? b)!;
	const side: Side = a ? 'a' : 'b';
	const gone = side === 'a' ? { bGone: true } : { aGone: true };
	const link = ctx.linkPerson({ a: entry.a, b: entry.b }, gone);
	if (entry.lifecycle && entry.lifecycle.state !== 'active') {
		link.removal = planRemoval(ctx, entry, survivor, side, link);
		return;
	}
	if (changedSince(ctx, entry, survivor, side)) {
		const records = [ctx.ref(side, 'person', survivor)];
		const id = conflictId('changed-vs-removed', 'person', records);
		const choice = chosenSide(ctx.resolutions.byConflict.get(id), '*');
		if (!choice) {
			ctx.conflict('person', 'changed-vs-removed', records, { removedSide: otherSide(side) });
			ctx.view({ kind: 'person', [side]: survivor.id, situation: 'conflict', conflictId: id });
			// The same link, waiting: a second link would name both records twice (see linksOneToOne).
			link.deferred = true;
			ctx.keep(entry);
			return;
		}
		ctx.resolutions.applied.add(id);
		if (choice === side) {
			// The old pairing stays until the record is made again; so do the gone record's memberships.
			// The survivor is linked anew by the create, in place of this link.
			link.replacedOn = side;
			link.removal = planCreate(ctx, survivor, side, 'recreate', entry);
			recreated[side].push(survivor);
			return;
		}
	}
	link.removal = planRemoval(ctx, entry, survivor, side, link);
}

/**
 * People about to be created whose match key a paired record on the other side holds (or will hold
 * once this plan's updates land), a record this plan makes again there will hold, or the surviving
 * record of a pair whose other record is gone still holds (two-way: removed softly, it keeps its
 * values): creating them would duplicate that key there, so they are ambiguous instead, naming the
 * holder (or the person whose record is made again). A person chooses create new (the key is then
 * shared) or ignore.
 */
function heldKeys(
	ctx: ReconcileContext,
	pairs: readonly Pair<Person>[],
	creatable: Record<Side, Person[]>,
	writes: ReadonlyMap<Person, FieldValues>,
	recreated: Record<Side, readonly Person[]>,
	/** Records whose pair lost its other record: they still hold their key on their own side. */
	stranded: Record<Side, readonly Person[]>
): { ambiguous: { via: string; a: Person[]; b: Person[] }[]; taken: Set<Person> } {
	const ambiguous: { via: string; a: Person[]; b: Person[] }[] = [];
	const taken = new Set<Person>();
	// Nobody to create, nobody whose key could be held.
	if (creatable.a.length === 0 && creatable.b.length === 0) return { ambiguous, taken };
	const passes = personPasses(ctx.link);
	const add = (index: Map<string, Person[]>, k: string, p: Person) => {
		const list = index.get(k);
		if (list) list.push(p);
		else index.set(k, [p]);
	};
	for (const pass of passes) {
		const spec = ctx.personSpecs.find((s) => s.key === pass.name);
		// Each side's people waiting to be created, by key (a side's are taken only by its own
		// ambiguities, so both sides' can be gathered first).
		const waiting = { a: new Map<string, Person[]>(), b: new Map<string, Person[]>() };
		for (const side of SIDES)
			for (const p of creatable[side]) {
				const k = taken.has(p) ? '' : pass.key(p, side);
				if (k !== '') add(waiting[side], k, p);
			}
		if (waiting.a.size === 0 && waiting.b.size === 0) continue;
		// The paired records holding those keys on the other side, both sides in one walk over the pairs.
		const keyOf = (holder: Person, on: Side): string => {
			const written = spec && writes.size > 0 ? writes.get(holder) : undefined;
			return written && spec!.key in written
				? pass.key(withField(holder, spec!.local[on], written[spec!.key]), on)
				: pass.key(holder, on);
		};
		const holders = { a: new Map<string, Person[]>(), b: new Map<string, Person[]>() };
		const forA = waiting.a.size > 0;
		const forB = waiting.b.size > 0;
		for (let i = 0; i < pairs.length; i++) {
			const pair = pairs[i];
			if (forA) {
				const k = keyOf(pair.b, 'b');
				if (k !== '' && waiting.a.has(k)) add(holders.a, k, pair.b);
			}
			if (forB) {
				const k = keyOf(pair.a, 'a');
				if (k !== '' && waiting.b.has(k)) add(holders.b, k, pair.a);
			}
		}
		for (const side of SIDES) {
			if (waiting[side].size === 0) continue;
			const other = otherSide(side);
			// A kept record whose other side is made again holds its key there, paired once this plan is
			// done; a stranded one holds it until it is anonymized.
			for (const p of [...recreated[other], ...stranded[other]]) {
				const k = pass.key(p, other);
				if (k !== '' && waiting[side].has(k)) add(holders[side], k, p);
			}
			// The record made again carries this side's values: same side, same key.
			const remade = new Map<string, Person[]>();
			for (const p of recreated[side]) {
				const k = pass.key(p, side);
				if (k !== '' && waiting[side].has(k)) add(remade, k, p);
			}
			for (const k of new Set([...holders[side].keys(), ...remade.keys()])) {
				const mine = waiting[side].get(k)!;
				const same = [...mine, ...(remade.get(k) ?? [])];
				const list = holders[side].get(k) ?? [];
				ambiguous.push({ via: pass.name, a: side === 'a' ? same : list, b: side === 'a' ? list : same });
				for (const p of mine) taken.add(p);
			}
		}
	}
	return { ambiguous, taken };
}

const withField = (p: Person, localKey: string, value: FieldValue): Person => {
	const copy = { ...p };
	setPersonField(copy, localKey, value);
	return copy;
};

/**
 * A person whose create the other side refused last time (a unique value held by a record no match
 * found): a conflict naming that record, not a create that fails every night. Answered with create
 * new (try again, after fixing the other side), the person is created as usual.
 */
function collided(ctx: ReconcileContext, p: Person, side: Side): boolean {
	const to = otherSide(side);
	const collision = ctx.collisions.get(`${to}\u0000${p.id}`);
	if (!collision || ctx.resolutions.excluded.person[side].has(p.id)) return false;
	const holder = collision.existingId ? ctx.sides[to].people.get(collision.existingId) : undefined;
	const records = [ctx.ref(side, 'person', p), ...(holder ? [ctx.ref(to, 'person', holder)] : [])];
	const conflict = ctx.conflict('person', 'name-collision', records, { collision });
	ctx.view({ kind: 'person', [side]: p.id, [to]: holder?.id, situation: 'conflict', conflictId: conflict.id });
	return true;
}

export function reconcilePeople(ctx: ReconcileContext): void {
	const { sides, link, resolutions } = ctx;
	const m = match<Person>({
		a: sides.a.people,
		b: sides.b.people,
		baseline: ctx.baselineOf('person'),
		forced: resolutions.forced.person,
		excluded: resolutions.excluded.person,
		passes: personPasses(link),
		// An anonymized person who comes back is a new person: the old account stays anonymized.
		retired: (e) => (e.lifecycle?.state === 'anonymized' ? (e.lifecycle.on ?? 'b') : undefined),
		// A source's duplicates are caught before they are created; a target's own duplicates are
		// its business in provisioning, unless a source person would match them.
		uniqueKeys: { a: true, b: !ctx.provision }
	});

	// The anonymized account stays as it is, and so does the entry that says why.
	for (const entry of m.retired) ctx.keep(entry);
	const writes = new Map<Person, FieldValues>();
	// One function for every pair: a closure per pair was a hundred thousand allocations at 100k.
	const authority = (f: string): Side => (ctx.provision ? 'a' : (link.authority.fields[f] ?? link.authority.default));
	// Indexed loops over every pair (see match).
	for (let i = 0; i < m.pairs.length; i++)
		reconcilePair(ctx, m.pairs[i].a, m.pairs[i].b, m.pairs[i].entry, writes, authority);
	const recreated: Record<Side, Person[]> = { a: [], b: [] };
	for (const { entry, a, b } of m.broken) reconcileBroken(ctx, entry, a, b, recreated);

	// Records a person already decided on (create new, ignore) are not second-guessed.
	const creatable = {
		a: m.onlyA.filter((p) => !resolutions.excluded.person.a.has(p.id)),
		b: ctx.provision ? [] : m.onlyB.filter((p) => !resolutions.excluded.person.b.has(p.id))
	};
	// Two-way only: provisioning learns of a removed account holding a newcomer's key from the
	// target's refusal of the create (see collided), as it has since it was built.
	const stranded: Record<Side, Person[]> = { a: [], b: [] };
	if (!ctx.provision)
		for (const { a, b } of m.broken) {
			if (a && !b && !recreated.a.includes(a)) stranded.a.push(a);
			if (b && !a && !recreated.b.includes(b)) stranded.b.push(b);
		}
	const held = heldKeys(ctx, m.pairs, creatable, writes, recreated, stranded);
	m.ambiguous.push(...held.ambiguous);

	for (const group of m.ambiguous) {
		const records = [
			...group.a.map((p) => ctx.ref('a', 'person', p)),
			...group.b.map((p) => ctx.ref('b', 'person', p))
		];
		const conflict = ctx.conflict('person', 'ambiguous-match', records);
		ctx.view({ kind: 'person', a: group.a[0]?.id, b: group.b[0]?.id, situation: 'conflict', conflictId: conflict.id });
	}

	for (const [side, list] of [
		['a', m.onlyA],
		['b', m.onlyB]
	] as const) {
		for (const p of list) {
			if (held.taken.has(p)) continue;
			if (resolutions.ignored.person[side].has(p.id)) {
				ctx.view({ kind: 'person', [side]: p.id, situation: 'in-sync', note: 'ignored' });
				continue;
			}
			// Provisioning never writes to the source, and leaves the target's own records alone.
			if (ctx.provision && side === 'b') {
				ctx.untouched.person++;
				continue;
			}
			if (collided(ctx, p, side)) continue;
			planCreate(ctx, p, side);
		}
	}
}

/**
 * Fills the memberships each removal journals, once the groups are settled: where every group a
 * side lists was read in place, what those reads found; else one walk over that side's list for
 * the people removed.
 */
export function fillJournals(ctx: ReconcileContext): void {
	for (const on of SIDES) {
		const journals = ctx.journals.filter((j) => j.on === on);
		if (journals.length === 0) continue;
		const index = ctx.sides[on];
		const stretches = stretchesOf(index);
		let read = 0;
		stretches?.forEach((s) => s.readInStep && read++);
		if (stretches && read === stretches.size) {
			for (const { link, into } of journals)
				for (const m of link.journal!.found.sort((x, y) => x.place - y.place))
					into.push({ groupId: m.groupId, role: m.role });
			continue;
		}
		indexMembers(index, new Set(journals.map((j) => j.personId)));
		for (const { personId, into } of journals) into.push(...groupsOfPerson(index, personId));
	}
	for (const { link } of ctx.journals) link.journal = undefined;
}

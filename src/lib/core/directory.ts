/**
 * An in-memory directory that applies operations: the sandbox systems' store and the tests'
 * stand-in for a real system. It enforces what real systems enforce (records exist before they
 * are changed, unique ids) so a plan that works here is a plan that can work there.
 */
import { snapshotVersion } from './snapshot';
import { setGroupField, setPersonField } from './fields';
import type { Group, Person, Role, Snapshot } from './model';
import type { Op, TargetRef } from './ops';

export interface Notice {
	type: 'invite' | 'notify-transfer';
	personId: string;
	from?: string[];
	to?: string[];
}

export class DirectoryError extends Error {}

export class Directory {
	readonly people = new Map<string, Person>();
	readonly groups = new Map<string, Group>();
	readonly members = new Map<string, Map<string, Role>>();
	readonly notices: Notice[] = [];
	private nextId = 1;

	constructor(
		readonly system: string,
		snapshot?: Pick<Snapshot, 'people' | 'groups' | 'memberships'>,
		private readonly idPrefix = system
	) {
		for (const p of snapshot?.people ?? []) this.people.set(p.id, structuredClone(p));
		for (const g of snapshot?.groups ?? []) this.groups.set(g.id, { ...g });
		for (const m of snapshot?.memberships ?? []) this.membersOf(m.groupId).set(m.personId, m.role);
	}

	private membersOf(groupId: string): Map<string, Role> {
		let list = this.members.get(groupId);
		if (!list) this.members.set(groupId, (list = new Map()));
		return list;
	}

	private newId(requested?: string): string {
		if (requested && !this.people.has(requested) && !this.groups.has(requested)) return requested;
		let id: string;
		do id = `${this.idPrefix}-${this.nextId++}`;
		while (this.people.has(id) || this.groups.has(id));
		return id;
	}

	private person(id: string): Person {
		const p = this.people.get(id);
		if (!p) throw new DirectoryError(`${this.system}: no person "${id}"`);
		return p;
	}

	private group(id: string): Group {
		const g = this.groups.get(id);
		if (!g) throw new DirectoryError(`${this.system}: no group "${id}"`);
		return g;
	}

	/** Applies one operation; creates return the new id. */
	apply(op: Op, resolve: (ref: TargetRef) => string = (r) => ('id' in r ? r.id : r.createdBy)): { id?: string } {
		switch (op.type) {
			case 'create-person': {
				const id = this.newId(op.restoreId);
				this.people.set(id, { ...structuredClone(op.record), id });
				return { id };
			}
			case 'create-group': {
				const id = this.newId(op.restoreId);
				this.groups.set(id, { ...op.record, id });
				return { id };
			}
			case 'update-person':
			case 'anonymize-person': {
				const p = { ...this.person(resolve(op.target)) };
				for (const [k, v] of Object.entries(op.values)) setPersonField(p, k, v);
				this.people.set(p.id, p);
				return {};
			}
			case 'update-group': {
				const g = { ...this.group(resolve(op.target)) };
				for (const [k, v] of Object.entries(op.values)) setGroupField(g, k, v);
				this.groups.set(g.id, g);
				return {};
			}
			case 'adopt-person':
				this.person(resolve(op.target));
				return {};
			case 'adopt-group':
				this.group(resolve(op.target));
				return {};
			case 'remove-person': {
				const id = resolve(op.target);
				const p = this.person(id);
				if (op.soft) {
					this.people.set(id, { ...p, active: false });
				} else {
					this.people.delete(id);
					for (const list of this.members.values()) list.delete(id);
				}
				return {};
			}
			case 'restore-person': {
				const p = this.person(resolve(op.target));
				this.people.set(p.id, { ...p, active: true });
				return {};
			}
			case 'grant-access':
			case 'revoke-access': {
				const p = this.person(resolve(op.target));
				this.people.set(p.id, { ...p, access: op.type === 'grant-access' });
				return {};
			}
			case 'remove-group': {
				const id = resolve(op.target);
				this.group(id);
				this.groups.delete(id);
				this.members.delete(id);
				return {};
			}
			case 'add-membership':
			case 'set-role': {
				const groupId = resolve(op.group);
				const personId = resolve(op.person);
				this.group(groupId);
				this.person(personId);
				this.membersOf(groupId).set(personId, op.role);
				return {};
			}
			case 'remove-membership': {
				const groupId = resolve(op.group);
				this.group(groupId);
				this.members.get(groupId)?.delete(resolve(op.person));
				return {};
			}
			case 'invite':
				this.notices.push({ type: 'invite', personId: resolve(op.person) });
				return {};
			case 'notify-transfer':
				this.notices.push({ type: 'notify-transfer', personId: resolve(op.person), from: op.from, to: op.to });
				return {};
		}
	}

	/** Every record, sorted by id, with a content version. */
	snapshot(takenAt = new Date(0).toISOString()): Snapshot {
		const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
		const people = [...this.people.values()].sort(byId);
		const groups = [...this.groups.values()].sort(byId);
		const memberships = [];
		for (const g of groups) {
			const list = this.members.get(g.id);
			if (!list) continue;
			for (const [personId, role] of [...list].sort((x, y) => (x[0] < y[0] ? -1 : 1)))
				memberships.push({ groupId: g.id, personId, role });
		}
		const snap = { system: this.system, takenAt, version: '', people, groups, memberships };
		snap.version = snapshotVersion(snap);
		return snap;
	}
}

import { type Backend, type InvocationStatus, STATUS_TABLE, STATUSES } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, newRequests, useBackend } from '../harness.js'

const OWNER = 'runner-a'
const OTHER = 'runner-b'

/** Shortest legal path from REGISTERED to every status (breadth-first over the table). */
function pathsFromRegistered(): Map<InvocationStatus, InvocationStatus[]> {
  const paths = new Map<InvocationStatus, InvocationStatus[]>([['registered', []]])
  const queue: InvocationStatus[] = ['registered']
  while (queue.length) {
    const s = queue.shift()!
    for (const t of STATUS_TABLE[s].allowedTargets) {
      if (paths.has(t)) continue
      paths.set(t, [...paths.get(s)!, t])
      queue.push(t)
    }
  }
  return paths
}

/** Registers `n` invocations and drives them all to `status` along legal steps as OWNER. */
async function invocationsIn(backend: Backend, status: InvocationStatus, n: number): Promise<string[]> {
  const path = pathsFromRegistered().get(status)!
  const reqs = newRequests(n)
  await backend.orchestrator.register(reqs)
  const ids = reqs.map((r) => r.id)
  for (const step of path) {
    const out = await backend.orchestrator.transition(ids.map((id) => ({ id, to: step, actor: OWNER })))
    expect(
      out.every((o) => o.ok),
      `driving to ${status}: step ${step}`,
    ).toBe(true)
  }
  return ids
}

export function describeStatusMachine(name: string, factory: BackendFactory): void {
  describe(`${name}: status machine`, () => {
    const { components } = useBackend(factory)

    it('every status is reachable from REGISTERED', () => {
      expect([...pathsFromRegistered().keys()].sort()).toEqual([...STATUSES].sort())
    })

    for (const from of STATUSES) {
      it(`from ${from}: allowed transitions apply, every other one is rejected and writes nothing`, async () => {
        const { backend } = await components()
        const ids = await invocationsIn(backend, from, STATUSES.length)
        const before = await Promise.all(ids.map((id) => backend.orchestrator.getHistory(id)))
        const prev = await backend.orchestrator.getStates(ids)
        const out = await backend.orchestrator.transition(
          STATUSES.map((to, i) => ({ id: ids[i]!, to, actor: OWNER })),
        )
        const after = await backend.orchestrator.getStates(ids)
        STATUSES.forEach((to, i) => {
          const allowed = STATUS_TABLE[from].allowedTargets.includes(to)
          const o = out[i]!
          if (allowed) {
            expect(o.ok, `${from} → ${to} should be allowed`).toBe(true)
            expect(after[i]!.status).toBe(to)
            const def = STATUS_TABLE[to]
            const expectedOwner = def.releasesOwnership
              ? null
              : def.acquiresOwnership
                ? OWNER
                : prev[i]!.owner
            expect(after[i]!.owner).toBe(expectedOwner)
          } else {
            expect(o.ok, `${from} → ${to} should be rejected`).toBe(false)
            if (!o.ok) expect(o.reason).toBe('invalid_transition')
            expect(after[i]!.status).toBe(from)
          }
        })
        const histories = await Promise.all(ids.map((id) => backend.orchestrator.getHistory(id)))
        STATUSES.forEach((to, i) => {
          const grew = histories[i]!.length - before[i]!.length
          expect(grew, `history growth for ${from} → ${to}`).toBe(
            STATUS_TABLE[from].allowedTargets.includes(to) ? 1 : 0,
          )
        })
      })
    }

    it('only the owner may leave an owned status; recovery statuses override ownership', async () => {
      const { backend } = await components()
      for (const from of STATUSES.filter((s) => STATUS_TABLE[s].requiresOwnership)) {
        const targets = STATUS_TABLE[from].allowedTargets
        const ids = await invocationsIn(backend, from, targets.length)
        const out = await backend.orchestrator.transition(
          targets.map((to, i) => ({ id: ids[i]!, to, actor: OTHER })),
        )
        const states = await backend.orchestrator.getStates(ids)
        targets.forEach((to, i) => {
          const o = out[i]!
          if (STATUS_TABLE[to].overridesOwnership) {
            expect(o.ok, `${from} → ${to} by a non-owner (override)`).toBe(true)
          } else {
            expect(o.ok, `${from} → ${to} by a non-owner`).toBe(false)
            if (!o.ok) expect(o.reason).toBe('ownership')
            expect(states[i]).toMatchObject({ status: from, owner: OWNER })
          }
        })
      }
    })

    it('entering PENDING needs a runner to own it', async () => {
      const { backend } = await components()
      const [id] = await invocationsIn(backend, 'registered', 1)
      const [o] = await backend.orchestrator.transition([{ id: id!, to: 'pending', actor: null }])
      expect(o).toMatchObject({ ok: false, reason: 'ownership' })
      expect((await backend.orchestrator.getStates([id!]))[0]!.status).toBe('registered')
    })

    it('an unknown invocation is reported as not found, never created', async () => {
      const { backend } = await components()
      const [o] = await backend.orchestrator.transition([
        { id: 'no-such-invocation', to: 'pending', actor: OWNER },
      ])
      expect(o).toEqual({ ok: false, reason: 'not_found' })
      expect(await backend.orchestrator.getStates(['no-such-invocation'])).toEqual([null])
    })

    it('entering RETRY increments the retry counter; history records actor and owner', async () => {
      const { backend } = await components()
      const [id] = await invocationsIn(backend, 'running', 1)
      const [o] = await backend.orchestrator.transition([{ id: id!, to: 'retry', actor: OWNER }])
      expect(o).toMatchObject({ ok: true, state: { status: 'retry', retries: 1, owner: null } })
      const h = await backend.orchestrator.getHistory(id!)
      expect(h.map((e) => e.status)).toEqual(['registered', 'pending', 'running', 'retry'])
      expect(h[0]!.actor).toBe('conformance-client')
      expect(h[1]).toMatchObject({ status: 'pending', owner: OWNER, actor: OWNER })
    })

    it('20 concurrent transitions of one invocation: exactly one wins', async () => {
      const { backend } = await components()
      const [id] = await invocationsIn(backend, 'running', 1)
      const outs = await Promise.all(
        Array.from({ length: 20 }, () =>
          backend.orchestrator.transition([{ id: id!, to: 'success', actor: OWNER }]),
        ),
      )
      expect(outs.filter(([o]) => o!.ok)).toHaveLength(1)
      expect((await backend.orchestrator.getHistory(id!)).filter((h) => h.status === 'success')).toHaveLength(
        1,
      )
    })
  })
}

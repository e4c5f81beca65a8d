'use strict'
/*
 * usage: node group_member.js JSON
 *   JSON: {bootstrap, group, topics, name, conf?, max_runtime?}
 *   conf (optional): {assigner: "roundrobin"|"range"} plus kafkajs consumer options
 *
 * One kafkajs consumer-group member, for tests/integration/test_groups_kafkajs.py
 * (protocol described in tests/integration/group_helpers.py). Prints one JSON
 * object per line on stdout:
 *   ready | assigned {parts, full: true, member, leader, protocol}
 *   | revoked {parts, why} | msgs {m: [[topic, p, offset, value]]}
 *   | commit {ok, offsets: [[topic, p, next]]} | closed | fatal {err}
 * SIGTERM: disconnect (commit, LeaveGroup) and exit 0. The process exits on
 * its own after max_runtime seconds.
 */
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel, PartitionAssigners } = require('kafkajs')

const cfg = JSON.parse(process.argv[2])
const conf = cfg.conf || {}

function emit(obj) {
  if (obj.t === undefined) obj.t = Date.now() / 1000
  process.stdout.write(JSON.stringify(obj) + '\n')
}

const kafka = new Kafka({
  clientId: cfg.name,
  brokers: [cfg.bootstrap],
  connectionTimeout: 5000,
  requestTimeout: 30000,
  retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000 },
  logLevel: logLevel.NOTHING,
})

const assigners = { roundrobin: PartitionAssigners.roundRobin }
const consumer = kafka.consumer({
  groupId: cfg.group,
  sessionTimeout: conf.sessionTimeout || 6000,
  heartbeatInterval: conf.heartbeatInterval || 1000,
  rebalanceTimeout: conf.rebalanceTimeout || 30000,
  partitionAssigners: [assigners[conf.assigner || 'roundrobin']],
  retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000 },
})

let owned = []
let stopping = false

function revokeAll(why) {
  if (owned.length) emit({ ev: 'revoked', parts: owned, why })
  owned = []
}

const E = consumer.events
consumer.on(E.GROUP_JOIN, e => {
  const p = e.payload
  const parts = []
  for (const [topic, ps] of Object.entries(p.memberAssignment || {})) for (const q of ps) parts.push([topic, q])
  owned = parts
  emit({ ev: 'assigned', parts, full: true, member: p.memberId, leader: p.leaderId, protocol: p.groupProtocol })
})
consumer.on(E.REBALANCING, () => revokeAll('rebalance'))
consumer.on(E.COMMIT_OFFSETS, e => {
  const offsets = []
  for (const t of e.payload.topics || [])
    for (const q of t.partitions) offsets.push([t.topic, parseInt(q.partition, 10), parseInt(q.offset, 10)])
  emit({ ev: 'commit', ok: true, offsets, gen: e.payload.groupGenerationId, member: e.payload.memberId })
})
consumer.on(E.CRASH, e => {
  emit({ ev: 'error', err: String(e.payload.error && e.payload.error.stack), restart: e.payload.restart })
})

async function shutdown(code) {
  if (stopping) return
  stopping = true
  try {
    revokeAll('close')
    await consumer.disconnect()
    emit({ ev: 'closed' })
  } catch (e) {
    emit({ ev: 'fatal', err: String(e && e.stack) })
    code = 3
  }
  process.exit(code)
}

process.on('SIGTERM', () => shutdown(0))
setTimeout(() => shutdown(0), (cfg.max_runtime || 240) * 1000)

async function main() {
  await consumer.connect()
  for (const topic of cfg.topics) await consumer.subscribe({ topic, fromBeginning: true })
  emit({ ev: 'ready' })
  await consumer.run({
    autoCommit: true,
    eachMessage: async ({ topic, partition, message }) => {
      // Printed before kafkajs resolves (and may commit) the offset, so a member
      // killed at any point never has a committed record it did not report.
      emit({ ev: 'msgs', m: [[topic, partition, parseInt(message.offset, 10), message.value === null ? null : message.value.toString()]] })
    },
  })
}

main().catch(e => {
  emit({ ev: 'fatal', err: String(e && e.stack) })
  process.exit(3)
})

'use strict'
/*
 * usage: node group_admin.js BROKER ACTION GROUP [TOPIC]
 *   ACTION: describe | list | offsets | delete
 * kafkajs admin view of consumer groups, one JSON line (lib.js convention):
 *   describe: {groups: admin.describeGroups([GROUP]).groups, with member
 *              assignments decoded to [[topic, p]] and subscriptions to topics}
 *   list:     {groups: admin.listGroups().groups}
 *   offsets:  {offsets: admin.fetchOffsets({groupId: GROUP, topics: [TOPIC]})}
 *   delete:   {deleted: result or null, errors: [error types]}
 */
const { AssignerProtocol } = require('kafkajs')
const { client, run, errorTypes, plain } = require('./lib')

const [broker, action, group, topic] = process.argv.slice(2)

function decodeAssignment(buf) {
  if (!buf || buf.length === 0) return []
  const a = AssignerProtocol.MemberAssignment.decode(buf)
  const out = []
  for (const [t, ps] of Object.entries((a && a.assignment) || {})) for (const p of ps) out.push([t, p])
  return out.sort((x, y) => (x[0] === y[0] ? x[1] - y[1] : x[0] < y[0] ? -1 : 1))
}

function decodeMetadata(buf) {
  if (!buf || buf.length === 0) return []
  return AssignerProtocol.MemberMetadata.decode(buf).topics
}

run(async () => {
  const admin = client(broker, 'fjord-js-group-admin').admin()
  await admin.connect()
  try {
    if (action === 'describe') {
      const { groups } = await admin.describeGroups([group])
      return {
        groups: groups.map(g => ({
          groupId: g.groupId,
          state: g.state,
          protocolType: g.protocolType,
          protocol: g.protocol,
          errorCode: g.errorCode,
          members: g.members.map(m => ({
            memberId: m.memberId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment: decodeAssignment(m.memberAssignment),
            topics: decodeMetadata(m.memberMetadata),
          })),
        })),
      }
    }
    if (action === 'list') return { groups: (await admin.listGroups()).groups }
    if (action === 'offsets') return { offsets: plain(await admin.fetchOffsets({ groupId: group, topics: [topic] })) }
    if (action === 'delete') {
      try {
        return { deleted: plain(await admin.deleteGroups([group])), errors: [] }
      } catch (e) {
        return { deleted: null, errors: errorTypes(e), groups: plain(e.groups || null) }
      }
    }
    throw new Error('unknown action ' + action)
  } finally {
    await admin.disconnect()
  }
})

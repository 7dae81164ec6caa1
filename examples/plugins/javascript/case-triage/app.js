// case-triage: a plugin written in JavaScript (componentize-js).
//
// Reads the case named by the input, picks a priority from its subject and
// description, writes `priority` (and `status: escalated` for critical ones)
// back through the host, and logs what it decided. Input: `{"case_id": "..."}`;
// output: `{"case_id", "priority", "matched"}`.
//
// Errors: `run` returns `err(text)` by throwing a string. Anything thrown
// below is caught at the boundary and turned into its message plus the JS
// stack, so the run shows where it happened (an Error object thrown out of
// `run` as it is could not be passed to the host as text).

import { get, update } from 'automations:plugin/records@0.1.0';
import { log } from 'automations:plugin/log@0.1.0';

const RULES = [
  { priority: 'critical', words: ['outage', 'down', 'data loss', 'security'] },
  { priority: 'high', words: ['urgent', 'cannot', "can't", 'broken', 'error'] },
  { priority: 'low', words: ['question', 'how do i', 'feature request'] },
];

class PluginError extends Error {}

function triage(input) {
  if (typeof input.case_id !== 'string') {
    throw new PluginError('input.case_id must be a string');
  }
  const text = get('case', input.case_id);
  if (text === undefined || text === null) {
    throw new PluginError(`case ${input.case_id} not found`);
  }
  const record = JSON.parse(text);
  const haystack = `${record.subject ?? ''} ${record.description ?? ''}`.toLowerCase();
  let priority = 'medium';
  let matched = null;
  for (const rule of RULES) {
    const word = rule.words.find((w) => haystack.includes(w));
    if (word) {
      priority = rule.priority;
      matched = word;
      break;
    }
  }
  const fields = { priority };
  if (priority === 'critical') fields.status = 'escalated';
  update('case', input.case_id, JSON.stringify(fields));
  log('info', `case ${input.case_id} triaged as ${priority}`, [['matched', matched ?? '']]);
  return { case_id: input.case_id, priority, matched };
}

export function run(input) {
  try {
    return JSON.stringify(triage(JSON.parse(input)));
  } catch (error) {
    if (error instanceof PluginError) throw error.message;
    if (error instanceof Error) throw `${error.name}: ${error.message}\n${error.stack}`;
    throw String(error);
  }
}

// Policies the tests share. Not imported by production code.
import type { TopicNamingSpec } from "../operator/api/types.ts";

/** The example naming convention: {env}.{team}.{app}.{type} with values or patterns per segment. */
export const ENV_TEAM_APP_TYPE: TopicNamingSpec = {
  template: "{env}.{team}.{app}.{type}",
  segments: {
    env: { values: ["dev", "stg", "prd"] },
    team: { pattern: "[a-z0-9-]+" },
    app: { pattern: "[a-z0-9-]+" },
    type: { values: ["json", "avro", "proto"] },
  },
};

// confluent-kafka-python on librdkafka (Debian python3-confluent-kafka) against the target
// broker: see python-suite.ts.
import { pythonClientSuite } from "./python-suite.ts";

pythonClientSuite("confluent-kafka");

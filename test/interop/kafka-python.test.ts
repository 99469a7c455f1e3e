// kafka-python (Debian python3-kafka) against the target broker: see python-suite.ts.
import { pythonClientSuite } from "./python-suite.ts";

pythonClientSuite("kafka-python");

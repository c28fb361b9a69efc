package io.decisionflow.it;

import io.decisionflow.deploy.BusinessUnit;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/** Business units for tests: a shipped unit file under a tenant of its own. */
final class TestUnits {

  private TestUnits() {}

  /**
   * {@code pulsar-deploy/business-units/<name>.yaml} with a unique tenant {@code it-<name>-<n>}.
   */
  static BusinessUnit isolated(Path projectDir, String name) {
    BusinessUnit unit = BusinessUnit.load(projectDir.resolve("pulsar-deploy/business-units"), name);
    unit.tenant =
        "it-" + name + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    return unit;
  }
}

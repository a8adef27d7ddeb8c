package io.distillery.jobs.generate;

import io.distillery.settings.Settings;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonConfigurationKeysPublic;
import org.apache.hadoop.security.alias.CredentialProviderFactory;
import org.apache.spark.sql.SparkSession;

/**
 * Where a remote teacher's API key comes from: the environment variable {@code teacher.http.api-key-env}, or the
 * alias {@code teacher.http.api-key-alias} in Hadoop credential providers. A serializable recipe, resolved on the
 * driver (to fail before any request) and again in each executor JVM; the key itself never leaves the JVM that
 * read it, and no message here contains it.
 *
 * @param providers the credential providers to read the alias from: {@code teacher.http.credential-providers}, or
 *     the driver's {@code hadoop.security.credential.provider.path} ("" when no alias is used)
 */
record ApiKeys(Settings.Http http, String providers) implements Supplier<Optional<String>>, Serializable {
  /** The recipe for these settings, with the credential providers as the driver's Hadoop configuration has them. */
  static ApiKeys of(Settings.Http http, SparkSession spark) {
    String providers = http.credentialProviders();
    if (!http.apiKeyAlias().isEmpty() && providers.isEmpty()) {
      providers = spark.sparkContext().hadoopConfiguration()
          .get(CredentialProviderFactory.CREDENTIAL_PROVIDER_PATH, "");
      if (providers.isEmpty()) {
        throw new IllegalStateException(Settings.Http.API_KEY_ALIAS.full() + " = " + http.apiKeyAlias() + " needs "
            + "credential providers: set " + Settings.Http.CREDENTIAL_PROVIDERS.full() + " (e.g. "
            + "jceks://hdfs@namenode:8020/user/me/distillery.jceks) or "
            + CredentialProviderFactory.CREDENTIAL_PROVIDER_PATH + " in the Hadoop configuration.");
      }
    }
    return new ApiKeys(http, providers);
  }

  /** The key, if one is configured; a configured key that cannot be found is an error naming where it looked. */
  @Override
  public Optional<String> get() {
    if (!http.apiKeyEnv().isEmpty()) {
      String key = System.getenv(http.apiKeyEnv());
      if (key == null || key.isBlank()) {
        throw new IllegalStateException(Settings.Http.API_KEY_ENV.full() + " names the environment variable "
            + http.apiKeyEnv() + ", which is not set here; set it on the driver and every executor (on YARN: "
            + "spark.yarn.appMasterEnv." + http.apiKeyEnv() + " and spark.executorEnv." + http.apiKeyEnv()
            + "), or keep the key in a Hadoop credential provider (" + Settings.Http.API_KEY_ALIAS.full() + ").");
      }
      return Optional.of(key.strip());
    }
    if (!http.apiKeyAlias().isEmpty()) {
      return Optional.of(fromCredentialProviders());
    }
    return Optional.empty();
  }

  private String fromCredentialProviders() {
    Configuration conf = new Configuration();
    conf.set(CredentialProviderFactory.CREDENTIAL_PROVIDER_PATH, providers);
    // Only a provider's entry counts: a plain-text property that happens to have the alias's name does not.
    conf.setBoolean(CommonConfigurationKeysPublic.HADOOP_SECURITY_CREDENTIAL_CLEAR_TEXT_FALLBACK, false);
    char[] key;
    try {
      key = conf.getPassword(http.apiKeyAlias());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + Settings.Http.API_KEY_ALIAS.full() + " = " + http.apiKeyAlias()
          + " from the credential providers " + providers + ": " + e.getMessage(), e);
    }
    if (key == null || new String(key).isBlank()) {
      throw new IllegalStateException("The credential providers " + providers + " hold no entry "
          + http.apiKeyAlias() + " (" + Settings.Http.API_KEY_ALIAS.full() + "); add it with `hadoop credential create "
          + http.apiKeyAlias() + " -provider " + providers.split(",")[0] + "`.");
    }
    return new String(key).strip();
  }
}

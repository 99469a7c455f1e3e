// Client driver for the official Java client (org.apache.kafka:kafka-clients).
//
// Compiled by test/setup/install.sh into $CAPSTAN_CACHE/kafka-<version>/driver and run as
//   java -cp "$CAPSTAN_CACHE/kafka-<v>/libs/*:$CAPSTAN_CACHE/kafka-<v>/driver" \
//     KafkaClientDriver BOOTSTRAP TOPIC GROUP [COUNT] [client.prop=value ...]
//
// Same scenario as every driver in test/clients/ (see README.md there): produce COUNT
// (default 3) keyed records "key-i" -> "value-i" to TOPIC (auto-created by the broker),
// the last one with headers h1=v1 and h2=v2, then consume them in consumer group GROUP
// from the earliest offset, commit synchronously and exit 0. Any failure or a timeout
// (60 s) exits non-zero. Extra client.prop=value arguments go to both the producer and
// the consumer (e.g. group.protocol=consumer).
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class KafkaClientDriver {
  private static final long TIMEOUT_MS = 60_000;

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: KafkaClientDriver BOOTSTRAP TOPIC GROUP [COUNT] [prop=value ...]");
      System.exit(2);
    }
    String bootstrap = args[0];
    String topic = args[1];
    String group = args[2];
    int count = 3;
    Properties extra = new Properties();
    for (int i = 3; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq > 0) {
        extra.setProperty(args[i].substring(0, eq), args[i].substring(eq + 1));
      } else {
        count = Integer.parseInt(args[i]);
      }
    }

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.putAll(extra);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ProducerRecord<String, String> r = new ProducerRecord<>(topic, "key-" + i, "value-" + i);
        if (i == count - 1) {
          r.headers().add("h1", "v1".getBytes(StandardCharsets.UTF_8));
          r.headers().add("h2", "v2".getBytes(StandardCharsets.UTF_8));
        }
        sent.add(producer.send(r));
      }
      producer.flush();
      for (java.util.concurrent.Future<RecordMetadata> f : sent) {
        RecordMetadata md = f.get();
        System.out.println("produced " + md.topic() + "-" + md.partition() + "@" + md.offset());
      }
    }

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.putAll(extra);
    int received = 0;
    boolean headersSeen = false;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + TIMEOUT_MS;
      while (received < count) {
        if (System.currentTimeMillis() > deadline) {
          System.err.println("timed out: consumed " + received + " of " + count);
          System.exit(1);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          StringBuilder hs = new StringBuilder();
          for (Header h : r.headers()) {
            hs.append(' ').append(h.key()).append('=').append(new String(h.value(), StandardCharsets.UTF_8));
            headersSeen = true;
          }
          System.out.println("consumed " + r.partition() + "@" + r.offset() + " " + r.key() + "=" + r.value() + hs);
          received++;
        }
      }
      consumer.commitSync();
    }
    if (!headersSeen) {
      System.err.println("no record carried headers");
      System.exit(1);
    }
    System.out.println("ok");
  }
}

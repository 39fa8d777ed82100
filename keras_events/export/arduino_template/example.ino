// {name}: keyword spotting with an event-based GRU (exported by keras-events).
//
// Runs the built-in test clip through the streaming classifier once a second and
// prints the detected keyword. For a live detector, call kws.pushAudio() with each
// hop of {hop} samples (16 kHz, mono, int16) from your microphone driver (e.g. the
// PDM library on an Arduino Nano 33 BLE Sense), and read kws.best() after ~1 s.
#include <{name}.h>

alignas(16) static uint8_t arena[{name_upper}_ARENA_SIZE];
static ke_micro::StreamingClassifier kws({name_upper}_MODEL, arena, sizeof(arena));

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  if (kws.begin() != 0) {
    Serial.print("keyword spotter failed: ");
    Serial.println(kws.error());
    while (true) {
    }
  }
  Serial.print("arena used: ");
  Serial.println((unsigned long)kws.arenaUsedBytes());
}

void loop() {
  kws.reset();
  for (int i = 0; i + {hop} <= {name_upper}_TEST_CLIP_LEN; i += {hop}) {
    if (kws.pushAudio({name}_test_clip + i) < 0) {
      Serial.println(kws.error());
      return;
    }
  }
  Serial.print("keyword: ");
  Serial.println(kws.label(kws.best()));
  delay(1000);
}

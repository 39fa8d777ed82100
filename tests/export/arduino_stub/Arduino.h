// Test-only stand-in for the Arduino core API the example sketch uses, so the sketch can
// be compiled with arm-none-eabi-g++ outside the Arduino IDE.
#ifndef KE_TEST_ARDUINO_H_
#define KE_TEST_ARDUINO_H_
#include <stdint.h>
#include <stddef.h>

struct KeTestSerial {
  void begin(unsigned long) {}
  explicit operator bool() const { return true; }
  size_t print(const char*) { return 0; }
  size_t print(unsigned long) { return 0; }
  size_t println(const char*) { return 0; }
  size_t println(unsigned long) { return 0; }
};
extern KeTestSerial Serial;
void delay(unsigned long ms);
#endif

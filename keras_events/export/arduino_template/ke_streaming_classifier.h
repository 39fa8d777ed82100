// Always-on keyword spotting with an event-based RNN on TensorFlow Lite Micro.
//
// Feed 16 kHz mono audio in hops of KE_LOGMEL_HOP (160) samples. Each hop completes a
// log-mel frame (ke_logmel, custom_ops/core), which is standardised, quantized to the
// model's int8 input and run through the streaming model: one frame per invoke, the
// event op's state kept between invokes. The model's per-frame logits are averaged over
// the utterance; since the classifier head is linear, the mean of the per-frame logits
// equals the whole-sequence model's logits (the Keras model reads the mean of y).
#ifndef KE_STREAMING_CLASSIFIER_H_
#define KE_STREAMING_CLASSIFIER_H_

#include <stdint.h>

#include "custom_ops/core/ke_logmel.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace ke_micro {

constexpr int kMaxModelOps = 16;
using OpResolver = tflite::MicroMutableOpResolver<kMaxModelOps>;

struct StreamingModel {
  const unsigned char* tflite;   // the streaming .tflite (input [1, 1, mels] int8)
  TfLiteStatus (*add_ops)(OpResolver& resolver);  // exactly the model's ops
  float feature_mean, feature_std;
  const char* const* labels;
  int num_labels;
};

class StreamingClassifier {
 public:
  StreamingClassifier(const StreamingModel& model, uint8_t* arena, size_t arena_size)
      : model_(model), arena_(arena), arena_size_(arena_size) {}

  // Builds the interpreter. Returns 0, or -1 with error() saying why.
  int begin();
  // Appends one hop of audio. Returns 1 when a frame was classified, 0 while the first
  // window fills, -1 on error.
  int pushAudio(const int16_t* hop);
  // Index of the best label over the frames so far (-1 before the first frame).
  int best() const;
  const char* label(int index) const;
  int frames() const { return frames_; }
  // Starts a new utterance: state, front end and averages.
  void reset();
  const char* error() const { return error_; }
  size_t arenaUsedBytes() const;

 private:
  static constexpr int kMaxLabels = 32;
  StreamingModel model_;
  uint8_t* arena_;
  size_t arena_size_;
  OpResolver resolver_;
  tflite::MicroInterpreter* interpreter_ = nullptr;
  alignas(8) uint8_t interpreter_buf_[sizeof(tflite::MicroInterpreter)];
  ke_logmel_state frontend_;
  float frame_[KE_LOGMEL_MAX_MELS];
  float sums_[kMaxLabels] = {0};
  int frames_ = 0;
  const char* error_ = "";
};

}  // namespace ke_micro

#endif  // KE_STREAMING_CLASSIFIER_H_

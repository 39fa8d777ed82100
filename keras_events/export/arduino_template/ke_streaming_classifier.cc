#include "ke_streaming_classifier.h"

#include <math.h>
#include <new>

#include "tensorflow/lite/schema/schema_generated.h"

namespace ke_micro {

int StreamingClassifier::begin() {
  if (model_.num_labels <= 0 || model_.num_labels > kMaxLabels) {
    error_ = "num_labels must be in 1..32";
    return -1;
  }
  if (ke_logmel_init(&frontend_, nullptr) != 0) {
    error_ = "log-mel front end init failed";
    return -1;
  }
  const tflite::Model* model = tflite::GetModel(model_.tflite);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    error_ = "model schema version mismatch";
    return -1;
  }
  if (model_.add_ops(resolver_) != kTfLiteOk) {
    error_ = "op registration failed";
    return -1;
  }
  interpreter_ = new (interpreter_buf_) tflite::MicroInterpreter(model, resolver_, arena_, arena_size_);
  if (interpreter_->AllocateTensors() != kTfLiteOk) {
    error_ = "AllocateTensors failed (arena too small or unsupported model; see the log)";
    return -1;
  }
  TfLiteTensor* input = interpreter_->input(0);
  TfLiteTensor* output = interpreter_->output(0);
  if (input->type != kTfLiteInt8 || input->bytes != static_cast<size_t>(frontend_.config.num_mels)) {
    error_ = "model input must be int8 [1, 1, num_mels]";
    return -1;
  }
  if (output->type != kTfLiteInt8 || output->bytes != static_cast<size_t>(model_.num_labels)) {
    error_ = "model output must be int8 logits, one per label";
    return -1;
  }
  reset();
  return 0;
}

int StreamingClassifier::pushAudio(const int16_t* hop) {
  if (interpreter_ == nullptr) {
    error_ = "call begin() first";
    return -1;
  }
  int status = ke_logmel_frame(&frontend_, hop, frame_);
  if (status <= 0) return status < 0 ? (error_ = "front end failed", -1) : 0;
  const int mels = frontend_.config.num_mels;
  for (int i = 0; i < mels; ++i) frame_[i] = (frame_[i] - model_.feature_mean) / model_.feature_std;
  TfLiteTensor* input = interpreter_->input(0);
  if (ke_logmel_quantize(frame_, mels, input->params.scale, input->params.zero_point,
                         input->data.int8) != 0) {
    error_ = "quantization failed";
    return -1;
  }
  if (interpreter_->Invoke() != kTfLiteOk) {
    error_ = "Invoke failed";
    return -1;
  }
  const TfLiteTensor* output = interpreter_->output(0);
  for (int k = 0; k < model_.num_labels; ++k) {
    sums_[k] += output->params.scale * (output->data.int8[k] - output->params.zero_point);
  }
  ++frames_;
  return 1;
}

int StreamingClassifier::best() const {
  if (frames_ == 0) return -1;
  int best = 0;
  for (int k = 1; k < model_.num_labels; ++k) best = sums_[k] > sums_[best] ? k : best;
  return best;
}

const char* StreamingClassifier::label(int index) const {
  return (index >= 0 && index < model_.num_labels) ? model_.labels[index] : "?";
}

void StreamingClassifier::reset() {
  if (interpreter_ != nullptr) interpreter_->Reset();  // zeroes the event ops' state
  ke_logmel_reset(&frontend_);
  for (int k = 0; k < kMaxLabels; ++k) sums_[k] = 0.0f;
  frames_ = 0;
}

size_t StreamingClassifier::arenaUsedBytes() const {
  return interpreter_ ? interpreter_->arena_used_bytes() : 0;
}

}  // namespace ke_micro

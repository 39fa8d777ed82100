// Drives the host TFLite glue (custom_ops/tflite/ke_op.cc, with KE_EGRU) without an
// interpreter: a fake TfLiteContext/TfLiteNode with valid and malformed
// inputs.  Valid models must run and match the core; malformed ones must fail
// in Prepare with a message and never touch invalid memory.  Built with
// ASan/UBSan by `make test-sanitize-custom-ops`.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "flatbuffers/flexbuffers.h"
#include "../core/ke_egru.h"
#include "../tflite/ke_op_state.h"
#include "../tflite/ke_ops.h"

namespace {

constexpr int B = 2, T = 4, I = 3, U = 5, G = 3 * U;
int failures = 0;
std::string last_error;

void ReportError(TfLiteContext*, const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  last_error = buffer;
}

TfLiteIntArray* IntArray(std::vector<int> values) {
  auto* a = static_cast<TfLiteIntArray*>(malloc(sizeof(TfLiteIntArray) + values.size() * sizeof(int)));
  a->size = static_cast<int>(values.size());
  for (size_t i = 0; i < values.size(); ++i) a->data[i] = values[i];
  return a;
}

TfLiteStatus ResizeTensor(TfLiteContext*, TfLiteTensor* tensor, TfLiteIntArray* size) {
  free(tensor->dims);
  tensor->dims = size;
  size_t n = 1;
  for (int i = 0; i < size->size; ++i) n *= size->data[i];
  const size_t item = tensor->type == kTfLiteInt8 ? 1 : 4;
  free(tensor->data.raw);
  tensor->data.raw = static_cast<char*>(calloc(n ? n : 1, item));
  tensor->bytes = n * item;
  return kTfLiteOk;
}

// One tensor's backing store.
struct Buffer {
  TfLiteType type;
  std::vector<int> shape;
  std::vector<char> bytes;
  float scale = 0.0f;
  int zero_point = 0;
  bool constant = true;
};

template <typename V>
Buffer Make(TfLiteType type, std::vector<int> shape, const std::vector<V>& values) {
  Buffer b{type, shape, {}};
  b.bytes.resize(values.size() * sizeof(V));
  if (!values.empty()) std::memcpy(b.bytes.data(), values.data(), b.bytes.size());
  return b;
}

// A complete KE_EGRU node: inputs (as Buffers), options, then Init/Prepare/Eval.
struct Case {
  std::vector<Buffer> inputs;
  std::vector<uint8_t> options;
  TfLiteType out_type = kTfLiteFloat32;
  float out_scale = 0.0f;
  int out_zero_point = 0;
  std::vector<int> input_ids;  // optional override of node->inputs
};

std::vector<uint8_t> Options(int units, bool with_units = true) {
  flexbuffers::Builder fbb;
  fbb.Map([&]() {
    if (with_units) fbb.Int("units", units);
    fbb.Bool("return_sequences", true);
  });
  fbb.Finish();
  return fbb.GetBuffer();
}

// Dense pseudo-random weights, every other one pruned, row-compressed.
void Pack(int rows, int seed, std::vector<float>* values, std::vector<int16_t>* index,
          std::vector<int32_t>* offsets) {
  offsets->assign(1, 0);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < G; ++k) {
      if ((r + k + seed) % 2 == 0) continue;
      values->push_back(0.1f * static_cast<float>(((r * 7 + k * 3 + seed) % 11) - 5));
      index->push_back(static_cast<int16_t>(k));
    }
    offsets->push_back(static_cast<int32_t>(values->size()));
  }
}

Case FloatCase() {
  std::vector<float> wv, vv, x(B * T * I), bias(2 * G), threshold(U, 0.1f);
  std::vector<int16_t> wi, vi;
  std::vector<int32_t> wo, vo;
  Pack(I, 0, &wv, &wi, &wo);
  Pack(U, 1, &vv, &vi, &vo);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * static_cast<float>(i % 7) - 0.9f;
  for (int k = 0; k < 2 * G; ++k) bias[k] = 0.05f * static_cast<float>(k % 5);
  Case c;
  c.inputs = {Make(kTfLiteFloat32, {B, T, I}, x),
              Make(kTfLiteFloat32, {static_cast<int>(wv.size())}, wv),
              Make(kTfLiteInt16, {static_cast<int>(wi.size())}, wi),
              Make(kTfLiteInt32, {I + 1}, wo),
              Make(kTfLiteFloat32, {static_cast<int>(vv.size())}, vv),
              Make(kTfLiteInt16, {static_cast<int>(vi.size())}, vi),
              Make(kTfLiteInt32, {U + 1}, vo),
              Make(kTfLiteFloat32, {2, G}, bias),
              Make(kTfLiteFloat32, {U}, threshold)};
  c.inputs[0].constant = false;
  c.options = Options(U);
  return c;
}

Case Int8Case() {
  Case f = FloatCase();
  Case c = f;
  auto to_i8 = [](const Buffer& b) {
    std::vector<int8_t> q(b.bytes.size() / 4);
    const float* v = reinterpret_cast<const float*>(b.bytes.data());
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(v[i] * 100.0f);
    Buffer out = Make(kTfLiteInt8, b.shape, q);
    out.constant = b.constant;
    return out;
  };
  c.inputs[0] = to_i8(f.inputs[0]);
  c.inputs[0].scale = 0.01f;
  c.inputs[1] = to_i8(f.inputs[1]);
  c.inputs[4] = to_i8(f.inputs[4]);
  c.inputs[7] = Make(kTfLiteInt32, {2, G}, std::vector<int32_t>(2 * G, 100));
  c.inputs[8] = Make(kTfLiteInt16, {U}, std::vector<int16_t>(U, 3000));
  c.inputs.push_back(Make(kTfLiteFloat32, {G}, std::vector<float>(G, 0.01f)));
  c.inputs.push_back(Make(kTfLiteFloat32, {G}, std::vector<float>(G, 0.01f)));
  c.out_type = kTfLiteInt8;
  c.out_scale = 1.0f / 256.0f;
  c.out_zero_point = -128;
  return c;
}

// Runs Init/Prepare(/Eval if prepared); returns Prepare's status.
TfLiteStatus Run(Case c, std::vector<char>* output = nullptr) {
  const TfLiteRegistration* reg = KE_EGRU_Registration();
  std::vector<TfLiteTensor> tensors(c.inputs.size() + 1);
  std::memset(tensors.data(), 0, tensors.size() * sizeof(TfLiteTensor));
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    TfLiteTensor& t = tensors[i];
    t.type = c.inputs[i].type;
    t.data.raw = c.inputs[i].bytes.empty() ? nullptr : c.inputs[i].bytes.data();
    t.bytes = c.inputs[i].bytes.size();
    t.dims = IntArray(c.inputs[i].shape);
    t.allocation_type = c.inputs[i].constant ? kTfLiteMmapRo : kTfLiteArenaRw;
    t.params.scale = c.inputs[i].scale;
    t.params.zero_point = c.inputs[i].zero_point;
  }
  TfLiteTensor& out = tensors.back();
  out.type = c.out_type;
  out.dims = IntArray({0});
  out.allocation_type = kTfLiteArenaRw;
  out.params.scale = c.out_scale;
  out.params.zero_point = c.out_zero_point;

  TfLiteContext context;
  std::memset(&context, 0, sizeof(context));
  context.tensors = tensors.data();
  context.tensors_size = tensors.size();
  context.ReportError = ReportError;
  context.ResizeTensor = ResizeTensor;

  std::vector<int> ids = c.input_ids;
  if (ids.empty()) {
    for (size_t i = 0; i < c.inputs.size(); ++i) ids.push_back(static_cast<int>(i));
  }
  TfLiteNode node;
  std::memset(&node, 0, sizeof(node));
  node.inputs = IntArray(ids);
  node.outputs = IntArray({static_cast<int>(tensors.size() - 1)});
  node.user_data = reg->init(&context, reinterpret_cast<const char*>(c.options.data()),
                             c.options.size());
  last_error.clear();
  TfLiteStatus status = reg->prepare(&context, &node);
  if (status == kTfLiteOk) {
    if (reg->invoke(&context, &node) != kTfLiteOk) status = kTfLiteError;
    if (output) output->assign(out.data.raw, out.data.raw + out.bytes);
  }
  reg->free(&context, node.user_data);
  free(node.inputs);
  free(node.outputs);
  for (auto& t : tensors) free(t.dims);
  free(out.data.raw);
  return status;
}

void Expect(bool ok, const char* what) {
  if (!ok) {
    ++failures;
    std::printf("FAIL: %s (last error: %s)\n", what, last_error.c_str());
  }
}

void ExpectRejected(const char* what, const std::function<void(Case*)>& mutate, bool int8 = false) {
  Case c = int8 ? Int8Case() : FloatCase();
  mutate(&c);
  const TfLiteStatus status = Run(c);
  Expect(status == kTfLiteError && !last_error.empty(), what);
}

}  // namespace

int main() {
  // Valid float: output equals the core run directly.
  {
    Case c = FloatCase();
    std::vector<char> out;
    Expect(Run(c, &out) == kTfLiteOk, "valid float model runs");
    std::vector<float> expect(B * T * U), c_hat(U), y(U), scratch(KE_EGRU_F32_SCRATCH(U));
    std::vector<int16_t> active(U);
    ke_egru_f32_params p;
    p.input_size = I;
    p.units = U;
    p.w_values = reinterpret_cast<const float*>(c.inputs[1].bytes.data());
    p.w_index = reinterpret_cast<const int16_t*>(c.inputs[2].bytes.data());
    p.w_offsets = reinterpret_cast<const int32_t*>(c.inputs[3].bytes.data());
    p.v_values = reinterpret_cast<const float*>(c.inputs[4].bytes.data());
    p.v_index = reinterpret_cast<const int16_t*>(c.inputs[5].bytes.data());
    p.v_offsets = reinterpret_cast<const int32_t*>(c.inputs[6].bytes.data());
    p.bias = reinterpret_cast<const float*>(c.inputs[7].bytes.data());
    p.threshold = reinterpret_cast<const float*>(c.inputs[8].bytes.data());
    ke_egru_f32_state s = {c_hat.data(), y.data(), active.data(), 0};
    ke_egru_f32_run(&p, reinterpret_cast<const float*>(c.inputs[0].bytes.data()), B, T, 1,
                    expect.data(), &s, scratch.data(), nullptr);
    Expect(out.size() == expect.size() * 4 &&
               std::memcmp(out.data(), expect.data(), out.size()) == 0,
           "float glue output == core output");
  }
  Expect(Run(Int8Case()) == kTfLiteOk, "valid int8 model runs");
  const uint64_t macs = KE_Ops_MacCount();
  Expect(macs > 0, "MACs counted");

  ExpectRejected("no options", [](Case* c) { c->options.clear(); });
  ExpectRejected("garbage options", [](Case* c) {
    for (auto& b : c->options) b = static_cast<uint8_t>(b * 31 + 7);
  });
  ExpectRejected("truncated options", [](Case* c) { c->options.resize(3); });
  ExpectRejected("options without units", [](Case* c) { c->options = Options(U, false); });
  ExpectRejected("units too large", [](Case* c) { c->options = Options(100000); });
  ExpectRejected("too few inputs", [](Case* c) { c->inputs.pop_back(); });
  ExpectRejected("optional (-1) input", [](Case* c) {
    for (int i = 0; i < 9; ++i) c->input_ids.push_back(i == 4 ? -1 : i);
  });
  ExpectRejected("input id out of range", [](Case* c) {
    for (int i = 0; i < 9; ++i) c->input_ids.push_back(i == 4 ? 999 : i);
  });
  ExpectRejected("x rank 2", [](Case* c) { c->inputs[0].shape = {B * T, I}; });
  ExpectRejected("x int16", [](Case* c) { c->inputs[0].type = kTfLiteInt16; });
  ExpectRejected("w_index int32", [](Case* c) { c->inputs[2].type = kTfLiteInt32; });
  ExpectRejected("w_offsets wrong length", [](Case* c) { c->inputs[3].shape = {I}; });
  ExpectRejected("w_offsets decreasing", [](Case* c) {
    auto* o = reinterpret_cast<int32_t*>(c->inputs[3].bytes.data());
    std::swap(o[1], o[2]);
    o[1] += 1;
  });
  ExpectRejected("nnz beyond values", [](Case* c) {
    reinterpret_cast<int32_t*>(c->inputs[6].bytes.data())[U] += 5;
  });
  ExpectRejected("index out of range", [](Case* c) {
    reinterpret_cast<int16_t*>(c->inputs[5].bytes.data())[0] = G;
  });
  ExpectRejected("negative index", [](Case* c) {
    reinterpret_cast<int16_t*>(c->inputs[2].bytes.data())[0] = -1;
  });
  ExpectRejected("bias shape", [](Case* c) { c->inputs[7].shape = {G, 2}; });
  ExpectRejected("weights not constant", [](Case* c) { c->inputs[1].constant = false; });
  ExpectRejected("missing data", [](Case* c) { c->inputs[8].bytes.clear(); });
  ExpectRejected("output type", [](Case* c) { c->out_type = kTfLiteInt8; });
  ExpectRejected("int8 x scale 0", [](Case* c) { c->inputs[0].scale = 0.0f; }, true);
  ExpectRejected("int8 output unquantized", [](Case* c) { c->out_scale = 0.0f; }, true);
  ExpectRejected("int8 negative w_scale", [](Case* c) {
    reinterpret_cast<float*>(c->inputs[9].bytes.data())[3] = -1.0f;
  }, true);
  ExpectRejected("int8 huge bias", [](Case* c) {
    reinterpret_cast<int32_t*>(c->inputs[7].bytes.data())[0] = 2147483647;
  }, true);
  ExpectRejected("int8 zero threshold", [](Case* c) {
    reinterpret_cast<int16_t*>(c->inputs[8].bytes.data())[0] = 0;
  }, true);
  ExpectRejected("int8 missing scales", [](Case* c) { c->inputs.resize(9); }, true);

  if (failures) {
    std::printf("%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("custom_ops tflite glue: all tests passed\n");
  return 0;
}

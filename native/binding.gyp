# node-gyp project of the libtorch addon behind the `torch` tfjs backend. Built by
# scripts/build-native.mjs, which finds libtorch and passes its folders in as environment
# variables (DENTSEG_TORCH_INCLUDE, DENTSEG_TORCH_LIB).
{
  "targets": [
    {
      "target_name": "dentseg_torch",
      "sources": ["src/addon.cc", "src/allocator.cc", "src/conv_layout.cc", "src/layout_copy.cc", "src/ops_nn.cc", "src/ops_math.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"process.env.DENTSEG_TORCH_INCLUDE || '/usr/include'\")",
      ],
      "libraries": [
        "-L<!(node -p \"process.env.DENTSEG_TORCH_LIB || '/usr/lib'\")",
        "-Wl,-rpath,<!(node -p \"process.env.DENTSEG_TORCH_LIB || '/usr/lib'\")",
        "-ltorch_cpu",
        "-lc10",
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    }
  ]
}

"""Why does TensorRT 8.6 refuse to build the UffParser networks of ssd_heads.uff / ssd.uff?
Parse each fixture with trt.UffParser and build it with an INFO logger; print the errors."""
from __future__ import annotations

import sys

import tensorrt as trt

FIXTURES = sys.argv[1] if len(sys.argv) > 1 else "/tmp/uff"
CASES = {
    "convnet.uff": ({"input": (32, 32, 3)}, ["prob"]),
    "ssd_heads.uff": ({"Input": (64, 64, 3)}, ["concat_box_loc", "concat_box_conf", "concat_priorbox"]),
    "ssd.uff": ({"Input": (64, 64, 3)}, ["NMS"]),
}


logger = trt.Logger(trt.Logger.INFO)
trt.init_libnvinfer_plugins(logger, "")
for name, (inputs, outputs) in CASES.items():
    for workspace in (None, 1 << 30):
        print(f"CASE {name} workspace={workspace}", flush=True)
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.UffParser()
        for i, hwc in inputs.items():
            parser.register_input(i, hwc, trt.UffInputOrder.NHWC)
        for o in outputs:
            parser.register_output(o)
        ok = parser.parse(f"{FIXTURES}/{name}", network, trt.float32)
        print(f"  parsed={ok} layers={network.num_layers} outputs="
              + ",".join(f"{network.get_output(k).name}{tuple(network.get_output(k).shape)}" for k in range(network.num_outputs)))
        for k in range(network.num_layers):
            layer = network.get_layer(k)
            if layer.type == trt.LayerType.PLUGIN_V2 or k >= network.num_layers - 3:
                print(f"  layer {k} {layer.name} {layer.type} -> "
                      + ",".join(str(tuple(layer.get_output(j).shape)) for j in range(layer.num_outputs)))
        builder.max_batch_size = 1
        config = builder.create_builder_config()
        if workspace:
            config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
        plan = builder.build_serialized_network(network, config)
        print(f"  built={plan is not None}", flush=True)

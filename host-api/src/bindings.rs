//! Host-side bindings generated from `wit/world.wit`. Generated code only; the
//! capability logic lives in `state`.

wasmtime::component::bindgen!({
    path: "wit",
    world: "action",
    imports: { default: trappable },
});

// d2l's MyLinear computed with `self.weight.data`, a tensor outside the
// graph, and silently trained nothing. A Parameter is the tensor in the
// graph: there is no `.data` tensor to compute with.
use blocks::prelude::*;

#[derive(Module)]
struct MyLinear {
    weight: Parameter,
    bias: Parameter,
}

impl Forward<Batch<5>> for MyLinear {
    type Output = Batch<3>;

    fn forward(&self, x: &Batch<5>) -> Batch<3> {
        let linear = x.matmul(&self.weight.data) + &*self.bias;
        Batch::new(linear.relu())
    }
}

fn values_are_not_a_tensor(layer: &MyLinear, x: &Tensor) -> Tensor {
    x.matmul(&layer.weight.data())
}

fn main() {}

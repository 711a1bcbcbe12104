//! Known answers for SGD, Adam and AdamW: five steps (twelve for the long
//! AMSGrad run) on three parameters, every value after every step compared
//! with torch.optim's (PyTorch 2.15, CPU, float32), produced by
//! `tests/reference/optim_reference.py`.

use blocks_core::Tensor;
use blocks_core::optim::{Adam, AdamConfig, AdamWConfig, Optimizer, Sgd, SgdConfig};

/// The test problem: p0 (2×3), p1 (2), p2 (1), and
/// loss = Σ a⊙p0⊙p0 + Σ p1⁴ + Σ p1·p2 + Σ p2², bounded below so no run diverges.
struct Problem {
    p0: Tensor,
    p1: Tensor,
    p2: Tensor,
    a: Tensor,
}

impl Problem {
    fn new() -> Self {
        Problem {
            p0: Tensor::from_vec(vec![0.5, -1.2, 0.3, 2.0, 0.1, -0.7], [2, 3]).requires_grad_(true),
            p1: Tensor::from_vec(vec![0.4, -0.9], [2]).requires_grad_(true),
            p2: Tensor::from_vec(vec![1.5], [1]).requires_grad_(true),
            a: Tensor::from_vec(vec![1.0, 0.5, 2.0, 0.25, 3.0, 1.0], [2, 3]),
        }
    }

    fn params(&self) -> [&Tensor; 3] {
        [&self.p0, &self.p1, &self.p2]
    }

    fn loss(&self) -> Tensor {
        let (p0, p1, p2) = (&self.p0, &self.p1, &self.p2);
        let quadratic = (&(p0 * p0) * &self.a).sum();
        let quartic = (&(&(p1 * p1) * p1) * p1).sum();
        let coupling = (p1 * p2).sum();
        let tail = (p2 * p2).sum();
        &(&(&quadratic + &quartic) + &coupling) + &tail
    }

    fn values(&self) -> Vec<f32> {
        self.params().iter().flat_map(|p| p.to_vec()).collect()
    }
}

/// Runs `steps` steps and compares all nine values after each with `expected`.
fn check<const N: usize>(name: &str, problem: &Problem, opt: &mut dyn Optimizer, expected: &[[f32; 9]; N]) {
    for (step, row) in expected.iter().enumerate() {
        opt.zero_grad();
        problem.loss().backward();
        opt.step();
        let got = problem.values();
        for (i, (&g, &e)) in got.iter().zip(row).enumerate() {
            // float32 against float32: the same operations in the same order
            // agree to rounding; 1e-6 absolute covers values near zero.
            let tolerance = 1e-6 + 1e-5 * e.abs();
            assert!(
                (g - e).abs() <= tolerance,
                "{name}: step {} value {i}: got {g}, PyTorch {e} (all: {got:?})",
                step + 1
            );
        }
    }
}

fn sgd(config: SgdConfig) -> (Problem, Sgd) {
    let problem = Problem::new();
    let opt = Sgd::new(problem.params(), config);
    (problem, opt)
}

fn adam(config: AdamConfig) -> (Problem, Adam) {
    let problem = Problem::new();
    let opt = Adam::new(problem.params(), config);
    (problem, opt)
}

#[test]
fn sgd_plain() {
    let (problem, mut opt) = sgd(SgdConfig { lr: 0.1, ..Default::default() });
    check("SGD(lr=0.1)", &problem, &mut opt, &SGD_PLAIN);
}

#[test]
fn sgd_momentum() {
    let (problem, mut opt) = sgd(SgdConfig { lr: 0.05, momentum: 0.9, ..Default::default() });
    check("SGD(momentum=0.9)", &problem, &mut opt, &SGD_MOMENTUM);
}

#[test]
fn sgd_dampening_skips_the_first_step() {
    // PyTorch's first momentum buffer is the gradient itself, undampened:
    // step 1 equals plain momentum's, later steps do not.
    let (problem, mut opt) = sgd(SgdConfig { lr: 0.05, momentum: 0.9, dampening: 0.5, ..Default::default() });
    assert_eq!(SGD_DAMPENING[0], SGD_MOMENTUM[0]);
    check("SGD(dampening=0.5)", &problem, &mut opt, &SGD_DAMPENING);
}

#[test]
fn sgd_nesterov() {
    let (problem, mut opt) = sgd(SgdConfig { lr: 0.05, momentum: 0.9, nesterov: true, ..Default::default() });
    check("SGD(nesterov=True)", &problem, &mut opt, &SGD_NESTEROV);
}

#[test]
fn sgd_weight_decay_enters_before_momentum() {
    let (problem, mut opt) =
        sgd(SgdConfig { lr: 0.05, momentum: 0.8, weight_decay: 0.3, ..Default::default() });
    check("SGD(weight_decay=0.3)", &problem, &mut opt, &SGD_WEIGHT_DECAY);
}

#[test]
fn sgd_maximize() {
    let (problem, mut opt) = sgd(SgdConfig { lr: 0.01, momentum: 0.5, maximize: true, ..Default::default() });
    check("SGD(maximize=True)", &problem, &mut opt, &SGD_MAXIMIZE);
}

#[test]
fn adam_defaults() {
    let (problem, mut opt) = adam(AdamConfig { lr: 0.1, ..Default::default() });
    check("Adam(lr=0.1)", &problem, &mut opt, &ADAM_DEFAULT);
}

#[test]
fn adam_l2_weight_decay_betas_eps() {
    let config =
        AdamConfig { lr: 0.05, betas: (0.8, 0.99), eps: 1e-3, weight_decay: 0.3, ..Default::default() };
    let (problem, mut opt) = adam(config);
    check("Adam(weight_decay=0.3)", &problem, &mut opt, &ADAM_L2);
}

#[test]
fn adam_amsgrad() {
    let (problem, mut opt) = adam(AdamConfig { lr: 0.05, amsgrad: true, ..Default::default() });
    check("Adam(amsgrad=True)", &problem, &mut opt, &ADAM_AMSGRAD);
}

#[test]
fn adam_amsgrad_long_run() {
    let (problem, mut opt) =
        adam(AdamConfig { lr: 0.2, betas: (0.5, 0.6), amsgrad: true, ..Default::default() });
    check("Adam(amsgrad=True, betas=(0.5, 0.6))", &problem, &mut opt, &ADAM_AMSGRAD_LONG);
}

#[test]
fn adamw_decouples_weight_decay() {
    let problem = Problem::new();
    let mut opt =
        Adam::adamw(problem.params(), AdamWConfig { lr: 0.1, weight_decay: 0.3, ..Default::default() });
    check("AdamW(weight_decay=0.3)", &problem, &mut opt, &ADAMW);
}

#[test]
fn adam_with_decoupled_weight_decay_and_amsgrad() {
    let config = AdamConfig {
        lr: 0.1,
        weight_decay: 0.3,
        amsgrad: true,
        decoupled_weight_decay: true,
        ..Default::default()
    };
    let (problem, mut opt) = adam(config);
    check("Adam(decoupled_weight_decay=True, amsgrad=True)", &problem, &mut opt, &ADAMW_AMSGRAD);
}

#[test]
fn adam_maximize() {
    let (problem, mut opt) = adam(AdamConfig { lr: 0.01, maximize: true, ..Default::default() });
    check("Adam(maximize=True)", &problem, &mut opt, &ADAM_MAXIMIZE);
}

#[test]
fn frozen_parameter_is_skipped() {
    let problem = Problem::new();
    problem.p2.set_requires_grad(false);
    let mut opt = Adam::new(problem.params(), AdamConfig { lr: 0.1, ..Default::default() });
    check("Adam with p2 frozen", &problem, &mut opt, &ADAM_FROZEN_P2);
    assert_eq!(opt.step_count(2), 0);
    assert!(!opt.state_dict().keys().iter().any(|k| k.starts_with("state.2.")));
}

#[test]
fn frozen_parameter_with_a_stale_gradient_is_not_updated() {
    // Frozen after backward: the gradient is still there, but requires_grad
    // is off, so the step leaves the values alone (PyTorch would use the stale gradient).
    let problem = Problem::new();
    let mut opt = Sgd::new(problem.params(), SgdConfig { lr: 0.05, momentum: 0.9, ..Default::default() });
    problem.loss().backward();
    problem.p2.set_requires_grad(false);
    let before = problem.p2.to_vec();
    opt.step();
    assert_eq!(problem.p2.to_vec(), before);
    assert!(opt.momentum_buffer(2).is_none());
    // The others took PyTorch's first step.
    for (got, expected) in problem.values().iter().zip(&SGD_MOMENTUM[0]).take(8) {
        assert!((got - expected).abs() <= 1e-6 + 1e-5 * expected.abs(), "{got} vs {expected}");
    }
}

#[test]
fn parameter_without_gradient_is_skipped_and_keeps_its_state() {
    let w = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    let v = Tensor::from_vec(vec![3.0], [1]).requires_grad_(true);
    let mut opt = Sgd::new([&w, &v], SgdConfig { lr: 0.1, momentum: 0.5, ..Default::default() });
    (&(&w * &w).sum() + &v.sum()).backward();
    opt.step();
    let buffer = opt.momentum_buffer(1).unwrap().to_vec();
    opt.zero_grad();
    (&w * &w).sum().backward(); // v gets no gradient this time
    opt.step();
    assert_eq!(v.to_vec(), vec![3.0 - 0.1]);
    assert_eq!(opt.momentum_buffer(1).unwrap().to_vec(), buffer);
}

#[test]
fn tied_parameter_listed_twice_is_updated_once() {
    for twice in [false, true] {
        let problem = Problem::new();
        let [p0, p1, p2] = problem.params();
        let listed: Vec<&Tensor> = if twice { vec![p0, p1, p0, p2, p1] } else { vec![p0, p1, p2] };
        let mut opt = Adam::new(listed, AdamConfig { lr: 0.1, ..Default::default() });
        assert_eq!(opt.params().len(), 3);
        check("Adam over a list with duplicates", &problem, &mut opt, &ADAM_DEFAULT);
        assert_eq!(opt.state_dict().keys().len(), 9);
    }
}

#[test]
fn shared_layer_in_a_model_is_updated_once() {
    use blocks_core::nn::{DynLinear, ModuleExt, Sequential};
    // The same layer twice in a Sequential: its gradient is the sum of both
    // uses, and one SGD step subtracts lr times that sum, once.
    let shared =
        DynLinear::from_tensors(Tensor::from_vec(vec![0.5, -0.25, 1.0, 0.75], [2, 2]), None).unwrap();
    let net = Sequential::new((shared.clone(), shared.clone()));
    let params = net.parameters();
    assert_eq!(params.len(), 1);
    let mut opt = Sgd::new([shared.weight(), shared.weight()], SgdConfig { lr: 0.1, ..Default::default() });
    net.forward(&Tensor::from_vec(vec![1.0, 2.0], [1, 2])).sum().backward();
    let expected: Vec<f32> = shared
        .weight()
        .to_vec()
        .iter()
        .zip(shared.weight().grad().unwrap().to_vec())
        .map(|(w, g)| w - 0.1 * g)
        .collect();
    opt.step();
    assert_eq!(shared.weight().to_vec(), expected);
}

#[test]
fn invalid_configurations_are_refused_with_pytorchs_messages() {
    let w = Tensor::ones([1]);
    let sgd_error = |config| Sgd::try_new([&w], config).unwrap_err().to_string();
    assert_eq!(sgd_error(SgdConfig { lr: -0.1, ..Default::default() }), "Invalid learning rate: -0.1");
    assert_eq!(
        sgd_error(SgdConfig { weight_decay: -1e-5, ..Default::default() }),
        "Invalid weight_decay value: -1e-05"
    );
    assert_eq!(
        sgd_error(SgdConfig { momentum: 0.9, dampening: 0.1, nesterov: true, ..Default::default() }),
        "Nesterov momentum requires a momentum and zero dampening"
    );
    let adam_error = |config| Adam::try_new([&w], config).unwrap_err().to_string();
    assert_eq!(
        adam_error(AdamConfig { betas: (0.9, 1.0), ..Default::default() }),
        "Invalid beta parameter at index 1: 1.0"
    );
    assert_eq!(adam_error(AdamConfig { eps: -1.0, ..Default::default() }), "Invalid epsilon value: -1.0");
    assert!(Adam::try_new([&w], AdamConfig { lr: f64::NAN, ..Default::default() }).is_err());
    let computed = &w.clone().requires_grad_(true) * 2.0;
    assert_eq!(sgd_error_for(&computed), "can't optimize a non-leaf Tensor");
}

fn sgd_error_for(tensor: &Tensor) -> String {
    Sgd::try_new([tensor], SgdConfig::default()).unwrap_err().to_string()
}

#[test]
fn printouts_match_pytorch() {
    // PyTorch's repr of SGD(p, lr=0.1), Adam(p) and AdamW(p, lr=0.01, amsgrad=True).
    let w = Tensor::ones([1]);
    let sgd = Sgd::new([&w], SgdConfig { lr: 0.1, ..Default::default() });
    assert_eq!(
        sgd.to_string(),
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n    fused: None\n    \
         lr: 0.1\n    maximize: False\n    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)"
    );
    let adam = Adam::new([&w], AdamConfig::default());
    assert_eq!(
        adam.to_string(),
        "Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n    capturable: False\n    \
         decoupled_weight_decay: False\n    differentiable: False\n    eps: 1e-08\n    foreach: None\n    fused: None\n    \
         lr: 0.001\n    maximize: False\n    weight_decay: 0\n)"
    );
    let adamw = Adam::adamw([&w], AdamWConfig { lr: 0.01, amsgrad: true, ..Default::default() });
    assert_eq!(
        adamw.to_string(),
        "AdamW (\nParameter Group 0\n    amsgrad: True\n    betas: (0.9, 0.999)\n    capturable: False\n    \
         decoupled_weight_decay: True\n    differentiable: False\n    eps: 1e-08\n    foreach: None\n    fused: None\n    \
         lr: 0.01\n    maximize: False\n    weight_decay: 0.01\n)"
    );
}

// Produced by tests/reference/optim_reference.py: the nine values
// (p0, p1, p2 flattened) after each step.
#[rustfmt::skip]
const SGD_PLAIN: [[f32; 9]; 5] = [
    [0.4, -1.08, 0.18, 1.9, 0.04, -0.56, 0.2244, -0.7584, 1.25],
    [0.32, -0.97200006, 0.108, 1.805, 0.015999999, -0.448, 0.094880104, -0.70891625, 1.0534],
    [0.25599998, -0.8748, 0.0648, 1.7147499, 0.0063999994, -0.35840002, -0.010801556, -0.67174643, 0.90412366],
    [0.20479998, -0.78732, 0.03888, 1.6290125, 0.00256, -0.28672, -0.101213425, -0.6409104, 0.79155374],
    [0.16383998, -0.708588, 0.023328, 1.5475619, 0.001024, -0.229376, -0.17995407, -0.61476004, 0.7074554],
];
#[rustfmt::skip]
const SGD_MOMENTUM: [[f32; 9]; 5] = [
    [0.45, -1.14, 0.24000001, 1.95, 0.07, -0.63, 0.3122, -0.82919997, 1.375],
    [0.35999998, -1.0289999, 0.13800001, 1.85625, 0.021999998, -0.504, 0.15834406, -0.720203, 1.15085],
    [0.24299999, -0.8776499, 0.01860001, 1.7254688, -0.027800003, -0.3402, -0.038462814, -0.6049354, 0.862123],
    [0.11339998, -0.69755244, -0.09257999, 1.564629, -0.06428, -0.15876001, -0.25868377, -0.5000259, 0.5482263],
    [-0.014580013, -0.5005871, -0.17412598, 1.3807573, -0.077828, 0.020411983, -0.48083186, -0.4080148, 0.24883212],
];
#[rustfmt::skip]
const SGD_DAMPENING: [[f32; 9]; 5] = [
    [0.45, -1.14, 0.24000001, 1.95, 0.07, -0.63, 0.3122, -0.82919997, 1.375],
    [0.3825, -1.0575, 0.162, 1.880625, 0.0325, -0.5355, 0.19576204, -0.7428415, 1.206675],
    [0.302625, -0.9568125, 0.0756, 1.7946796, -0.0061249975, -0.423675, 0.06005077, -0.6542947, 1.0085258],
    [0.21560626, -0.8422734, -0.009719999, 1.6948954, -0.039968744, -0.30184874, -0.08732417, -0.5718053, 0.79462135],
    [0.12650909, -0.7181314, -0.085535996, 1.5839033, -0.0644328, -0.17711268, -0.23976056, -0.49873456, 0.57885444],
];
#[rustfmt::skip]
const SGD_NESTEROV: [[f32; 9]; 5] = [
    [0.405, -1.0860001, 0.186, 1.905, 0.043, -0.567, 0.23318, -0.76548, 1.2625],
    [0.28755, -0.9342301, 0.06672, 1.7740124, -0.0058100014, -0.40256998, 0.037306618, -0.6576242, 0.97194356],
    [0.16366051, -0.7577552, -0.032505598, 1.6147206, -0.0348173, -0.22912468, -0.17223914, -0.5687404, 0.6743751],
    [0.04694397, -0.56898147, -0.09744691, 1.434574, -0.04264671, -0.06572153, -0.37920746, -0.49035782, 0.40838593],
    [-0.052290827, -0.37913084, -0.12471527, 1.240631, -0.034785222, 0.07320718, -0.5541273, -0.41657287, 0.20136073],
];
#[rustfmt::skip]
const SGD_WEIGHT_DECAY: [[f32; 9]; 5] = [
    [0.4425, -1.1220001, 0.23550001, 1.92, 0.0685, -0.6195, 0.3062, -0.8157, 1.3525],
    [0.3456125, -0.9866701, 0.1332675, 1.7792, 0.021722492, -0.48385748, 0.15320024, -0.6951016, 1.1044375],
    [0.22835705, -0.8142725, 0.022828992, 1.595392, -0.0225421, -0.31969985, -0.02743859, -0.57624835, 0.80607224],
    [0.10829162, -0.62342674, -0.070430055, 1.38453, -0.050853014, -0.15160827, -0.21183756, -0.47455555, 0.50486606],
    [-0.00021426393, -0.43022737, -0.12989484, 1.160459, -0.057483047, 0.00029994774, -0.37952122, -0.38995203, 0.2401612],
];
#[rustfmt::skip]
const SGD_MAXIMIZE: [[f32; 9]; 5] = [
    [0.51, -1.212, 0.312, 2.01, 0.106, -0.714, 0.41756, -0.91415995, 1.525],
    [0.5252, -1.2301201, 0.33048, 2.02505, 0.11536, -0.73528, 0.44450217, -0.93654805, 1.5630339],
    [0.543304, -1.2514813, 0.35293922, 2.0427003, 0.1269616, -0.7606256, 0.4771166, -0.96497047, 1.6083912],
    [0.5632221, -1.2746767, 0.3782864, 2.061739, 0.1403801, -0.7885109, 0.5138522, -0.99903977, 1.658359],
    [0.5844456, -1.2990211, 0.40609142, 2.081567, 0.15551215, -0.8182238, 0.55423075, -1.0393757, 1.7116584],
];
#[rustfmt::skip]
const ADAM_DEFAULT: [[f32; 9]; 5] = [
    [0.4, -1.1, 0.20000002, 1.9, 1.4901161e-08, -0.6, 0.3, -0.79999995, 1.4],
    [0.30118743, -1.0003209, 0.1029648, 1.8001665, -0.06700582, -0.50069445, 0.2006824, -0.7080982, 1.3003037],
    [0.20487125, -0.9012229, 0.013288982, 1.7006234, -0.074437566, -0.40274352, 0.102269284, -0.6323606, 1.2011774],
    [0.11291539, -0.80300653, -0.062182665, 1.6015049, -0.049022768, -0.30700168, 0.004878007, -0.5777916, 1.1029762],
    [0.027814433, -0.7060166, -0.11617778, 1.5029558, -0.010852084, -0.21455166, -0.09138944, -0.5439264, 1.0061827],
];
#[rustfmt::skip]
const ADAM_L2: [[f32; 9]; 5] = [
    [0.45004344, -1.150032, 0.25003874, 1.9500313, 0.050079238, -0.65003103, 0.35002664, -0.8500296, 1.450017],
    [0.4004364, -1.1001887, 0.20076548, 1.900134, 0.0044114254, -0.6002935, 0.30031708, -0.80132914, 1.4001495],
    [0.35146248, -1.0505588, 0.15283324, 1.850357, -0.030040532, -0.55096346, 0.2510129, -0.7549695, 1.350481],
    [0.30344674, -1.0012343, 0.10707426, 1.8007503, -0.04667329, -0.5022332, 0.2022289, -0.71208566, 1.3011012],
    [0.25675583, -0.95231026, 0.06450328, 1.7513633, -0.046331126, -0.45431045, 0.15405521, -0.67372626, 1.2521068],
];
#[rustfmt::skip]
const ADAM_AMSGRAD: [[f32; 9]; 5] = [
    [0.45000002, -1.1500001, 0.25000003, 1.95, 0.05000001, -0.65, 0.35000002, -0.84999996, 1.45],
    [0.40020612, -1.1000669, 0.20044139, 1.900037, 0.0033910237, -0.60013074, 0.30014333, -0.801134, 1.4000636],
    [0.35079315, -1.0502491, 0.15177085, 1.850137, -0.03358899, -0.550495, 0.25050297, -0.75450253, 1.3502381],
    [0.30196956, -1.0005987, 0.10459158, 1.8003267, -0.05423125, -0.5012088, 0.20113574, -0.7113826, 1.3005757],
    [0.25398186, -0.95117074, 0.059690773, 1.7506338, -0.058547013, -0.45240223, 0.15208432, -0.67302847, 1.2511357],
];
#[rustfmt::skip]
const ADAMW: [[f32; 9]; 5] = [
    [0.38500002, -1.064, 0.19100001, 1.84, -0.0029999837, -0.579, 0.28800002, -0.773, 1.355],
    [0.2749557, -0.9325726, 0.08877706, 1.6851038, -0.06765314, -0.4625656, 0.18030506, -0.6620682, 1.2148218],
    [0.17138302, -0.8059831, -0.0017353818, 1.5353856, -0.07125898, -0.35145515, 0.077106304, -0.57672673, 1.0797443],
    [0.07642056, -0.68455184, -0.07336769, 1.3909369, -0.043538757, -0.24666199, -0.021518849, -0.51878303, 0.95018905],
    [-0.0072052553, -0.56865585, -0.11984943, 1.2518654, -0.005389221, -0.1494301, -0.11547642, -0.48347476, 0.8267609],
];
#[rustfmt::skip]
const ADAMW_AMSGRAD: [[f32; 9]; 5] = [
    [0.38500002, -1.064, 0.19100001, 1.84, -0.0029999837, -0.579, 0.28800002, -0.773, 1.355],
    [0.2749557, -0.9325726, 0.08877706, 1.6851038, -0.0676499, -0.4625656, 0.18030506, -0.6620682, 1.2148218],
    [0.17138302, -0.8059831, -0.0017353818, 1.5353856, -0.071257636, -0.35145515, 0.077106304, -0.57672673, 1.0797443],
    [0.07642056, -0.68455184, -0.073332645, 1.3909369, -0.04353881, -0.24666199, -0.021518849, -0.51878303, 0.95018905],
    [-0.0072052553, -0.56865585, -0.11982146, 1.2518654, -0.005390145, -0.1494301, -0.11547642, -0.48347476, 0.8267609],
];
#[rustfmt::skip]
const ADAM_MAXIMIZE: [[f32; 9]; 5] = [
    [0.51, -1.21, 0.31, 2.01, 0.11, -0.71, 0.41, -0.90999997, 1.51],
    [0.5200047, -1.2200022, 0.3200072, 2.0200012, 0.120013475, -0.7200034, 0.420004, -0.92001116, 1.520002],
    [0.530017, -1.2300076, 0.33002615, 2.0300045, 0.130049, -0.73001254, 0.4300148, -0.93004066, 1.5300074],
    [0.5400399, -1.2400179, 0.34006113, 2.0400107, 0.14011465, -0.7400295, 0.44003513, -0.94009525, 1.5400172],
    [0.5500762, -1.2500342, 0.35011628, 2.0500207, 0.15021792, -0.75005645, 0.45006788, -0.9501815, 1.550033],
];
#[rustfmt::skip]
const ADAM_FROZEN_P2: [[f32; 9]; 5] = [
    [0.4, -1.1, 0.20000002, 1.9, 1.4901161e-08, -0.6, 0.3, -0.79999995, 1.5],
    [0.30118743, -1.0003209, 0.1029648, 1.8001665, -0.06700582, -0.50069445, 0.20032579, -0.71064556, 1.5],
    [0.20487125, -0.9012229, 0.013288982, 1.7006234, -0.074437566, -0.40274352, 0.10096034, -0.64434814, 1.5],
    [0.11291539, -0.80300653, -0.062182665, 1.6015049, -0.049022768, -0.30700168, 0.0018104687, -0.6079372, 1.5],
    [0.027814433, -0.7060166, -0.11617778, 1.5029558, -0.010852084, -0.21455166, -0.09722012, -0.598621, 1.5],
];
#[rustfmt::skip]
const ADAM_AMSGRAD_LONG: [[f32; 9]; 12] = [
    [0.3, -1.0, 0.10000001, 1.8, -0.1, -0.5, 0.20000002, -0.7, 1.3],
    [0.11447972, -0.80235046, -0.040545672, 1.6011539, -0.03333333, -0.30563492, 0.0042164624, -0.6070969, 1.1022127],
    [-0.010153793, -0.61456823, -0.08558798, 1.4042592, 0.040453143, -0.14713795, -0.1812859, -0.5864404, 0.9186894],
    [-0.06824188, -0.45140594, -0.06284568, 1.2168437, 0.026413484, -0.037814148, -0.34645915, -0.5887237, 0.76953036],
    [-0.07578144, -0.31831613, -0.018683571, 1.0452912, -0.013309272, 0.0246729, -0.47838822, -0.5846954, 0.6621036],
    [-0.055783544, -0.21516696, 0.013177659, 0.89224494, -0.016680574, 0.050688375, -0.56285894, -0.56745625, 0.5940226],
    [-0.02823811, -0.13873933, 0.022235535, 0.7581043, 0.0023494232, 0.05292198, -0.5953281, -0.5436341, 0.55674595],
    [-0.0055515245, -0.084462345, 0.015106732, 0.6419866, 0.0089581115, 0.042747304, -0.58784515, -0.52215207, 0.5394775],
    [0.0075582806, -0.047533337, 0.0035999445, 0.54235107, 0.0011043632, 0.028517175, -0.5614894, -0.50805974, 0.5325437],
    [0.011734865, -0.023555817, -0.0040529575, 0.45739076, -0.0042042704, 0.015293843, -0.53374845, -0.5018946, 0.5293196],
    [0.010118712, -0.008833961, -0.005748931, 0.3852651, -0.001612158, 0.005403134, -0.5133226, -0.5014431, 0.5264352],
    [0.006113131, -0.0004472742, -0.0035699354, 0.32422808, 0.0016980194, -0.00070191966, -0.5018926, -0.50368214, 0.52288496],
];

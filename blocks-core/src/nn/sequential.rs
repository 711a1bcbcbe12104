//! `nn.Sequential` over a tuple of blocks: children `0`, `1`, ... run in order,
//! each fed what the one before it gave.

use std::fmt;

use super::forward::{Call, run};
use super::path::within;
use super::{Module, Visitor};

/// Blocks run in order, like `nn.Sequential`; usually made with `sequential!`,
/// which also has the compiler check every width and channel count along the
/// chain. Each block runs through [`run`](super::run).
///
/// The blocks are the tuple in field `0`, so `net.0.2` is the third block,
/// with its own type (PyTorch's `net[2]`).
///
/// ```
/// use blocks_core::nn::{Linear, Module, ReLU, Sequential};
/// use blocks_core::Tensor;
/// let net = Sequential::new((Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()));
/// let y = net.forward(&Tensor::rand([2, 20]));
/// assert_eq!(y.shape(), vec![2, 10]);
/// assert_eq!(net.0.2.weight().shape(), vec![10, 256]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Sequential<T>(pub T);

impl<T> Sequential<T> {
    /// The blocks of `tuple`, in order.
    ///
    /// ```
    /// let net = blocks_core::nn::Sequential::new((blocks_core::nn::ReLU,));
    /// assert_eq!(net.to_string(), "Sequential(\n  (0): ReLU()\n)");
    /// ```
    pub fn new(tuple: T) -> Self {
        Sequential(tuple)
    }

    /// Runs the blocks in order on `input`: a `Tensor`, a `Batch<N>` or
    /// whatever the first block takes.
    ///
    /// ```
    /// use blocks_core::nn::{Batch, Linear, ReLU, Sequential};
    /// let net = Sequential::new((Linear::<4, 3>::new(), ReLU));
    /// let y: Batch<3> = net.forward(&Batch::<4>::rand(5));
    /// assert_eq!(y.shape(), vec![5, 3]);
    /// ```
    pub fn forward<G>(&self, input: &G) -> <Self as Call<G>>::Out
    where
        Self: Call<G>,
    {
        run(self, input)
    }
}

macro_rules! sequential_tuple {
    ($count:literal; $($block:ident $out:ident $index:tt),+) => {
        #[diagnostic::do_not_recommend]
        impl<$($block: Module),+> Module for Sequential<($($block,)+)> {
            fn type_name(&self) -> String {
                "Sequential".into()
            }

            fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
                $(visitor.child(stringify!($index), &self.0.$index);)+
            }
        }

        impl<$($block: Module),+> fmt::Display for Sequential<($($block,)+)> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                super::repr::fmt_module(self, f)
            }
        }

        sequential_tuple!(@call G; (); ($($block $out $index),+));
    };
    // Builds `A: Call<G, Out = OA>, B: Call<OA, Out = OB>, ...` one block at a time.
    (@call $input:ident; ($($bounds:tt)*); ($block:ident $out:ident $index:tt $(, $rest_block:ident $rest_out:ident $rest_index:tt)*)) => {
        sequential_tuple!(@call $out; ($($bounds)* [$block $input $out $index]); ($($rest_block $rest_out $rest_index),*));
    };
    (@call $last:ident; ($($bounds:tt)*); ()) => {
        sequential_tuple!(@impl $last; $($bounds)*);
    };
    (@impl $last:ident; [$first:ident $first_input:ident $first_out:ident $first_index:tt] $([$block:ident $input:ident $out:ident $index:tt])*) => {
        #[diagnostic::do_not_recommend]
        impl<$first_input, $first, $first_out, $($block, $out),*> Call<$first_input> for Sequential<($first, $($block,)*)>
        where
            $first: Call<$first_input, Out = $first_out>,
            $($block: Call<$input, Out = $out>,)*
        {
            type Out = $last;

            #[allow(non_snake_case)]
            #[track_caller]
            fn call(&self, input: &$first_input) -> $last {
                let $first_out = within($first_index, || run(&self.0.$first_index, input));
                $(let $out = within($index, || run(&self.0.$index, &$input));)*
                $last
            }
        }
    };
}

sequential_tuple!(1; A OA 0);
sequential_tuple!(2; A OA 0, B OB 1);
sequential_tuple!(3; A OA 0, B OB 1, C OC 2);
sequential_tuple!(4; A OA 0, B OB 1, C OC 2, D OD 3);
sequential_tuple!(5; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4);
sequential_tuple!(6; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5);
sequential_tuple!(7; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6);
sequential_tuple!(8; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7);
sequential_tuple!(9; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8);
sequential_tuple!(10; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8, K OK 9);
sequential_tuple!(11; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8, K OK 9, L OL 10);
sequential_tuple!(12; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8, K OK 9, L OL 10, M OM 11);

//! What a `Sequential` holds by position: tuples of 1 to 12 blocks, and
//! [`Chunks`] of them for more (the tuple impls of the standard library,
//! `Debug` and `Default`, stop at twelve).

use crate::nn::HookValue;
use crate::nn::forward::{Forward, run};
use crate::nn::path::within;
use crate::nn::sequential::{AlongWith, BlockEntries, Chain, Entries, FirstTakes};
use crate::nn::{Module, Visitor};

/// More than twelve blocks in a `Sequential`: the first twelve (a tuple) and
/// the rest (a tuple of up to twelve, or `Chunks` again). `sequential!`
/// writes it; the keys, the printout and the path in run-time errors count
/// the blocks straight through (`13.weight` for the 14th block), as
/// PyTorch's `nn.Sequential` does.
///
/// Block `k` with its own type is `net.0` followed by `.1` once per full
/// chunk of twelve before it, then `.0` if more chunks follow its own, then
/// `.{k % 12}`: in a 30-block net, block 5 is `net.0.0.5`, block 13 is
/// `net.0.1.0.1` and block 29 is `net.0.1.1.5`. By position at run time,
/// `(&net as &dyn Module)[k]` gives any block as `&dyn Module` (and
/// `downcast_ref` its type back).
///
/// ```
/// use blocks_core::nn::{Chunks, Module, ModuleExt, ReLU, Sequential};
/// let net = Sequential::new(Chunks((ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU), (ReLU,)));
/// assert_eq!(net.named_children().last().unwrap().0, "12");
/// let _thirteenth: &ReLU = &net.0.1.0;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Chunks<First, Rest>(pub First, pub Rest);

impl<F: Entries, R: Entries> Entries for Chunks<F, R> {
    const LEN: usize = F::LEN + R::LEN;

    fn visit_entries<'m>(&'m self, first: usize, visitor: &mut dyn Visitor<'m>) {
        self.0.visit_entries(first, visitor);
        self.1.visit_entries(first + F::LEN, visitor);
    }
}

impl<F: BlockEntries, R: BlockEntries> BlockEntries for Chunks<F, R> {
    fn blocks(&self) -> Vec<&dyn crate::nn::Block> {
        let mut blocks = self.0.blocks();
        blocks.extend(self.1.blocks());
        blocks
    }
}

impl<F: FirstTakes, R: FirstTakes> FirstTakes for Chunks<F, R> {
    type Inputs = <F::Inputs as AlongWith<R::Inputs>>::Out;
}

impl<G, F, R> Chain<G> for Chunks<F, R>
where
    F: Chain<G> + Entries,
    R: Chain<F::Out>,
{
    type Out = R::Out;

    #[track_caller]
    fn run_from(&self, first: usize, input: &G) -> R::Out {
        let middle = self.0.run_from(first, input);
        self.1.run_from(first + F::LEN, &middle)
    }
}

macro_rules! entries_tuple {
    ($count:literal; $($block:ident $out:ident $index:tt),+) => {
        impl<$($block: Module),+> Entries for ($($block,)+) {
            const LEN: usize = $count;

            fn visit_entries<'m>(&'m self, first: usize, visitor: &mut dyn Visitor<'m>) {
                $(visitor.child(&(first + $index).to_string(), &self.$index);)+
            }
        }

        impl<$($block: crate::nn::Block),+> BlockEntries for ($($block,)+) {
            fn blocks(&self) -> Vec<&dyn crate::nn::Block> {
                vec![$(&self.$index),+]
            }
        }

        entries_tuple!(@first $($block),+);
        entries_tuple!(@call G; (); ($($block $out $index),+));
    };
    (@first $first:ident $(, $rest:ident)*) => {
        impl<$first: crate::nn::Takes, $($rest: crate::nn::Takes),*> FirstTakes for ($first, $($rest,)*)
        where
            $first::Inputs: crate::nn::Firstly<$first>,
        {
            type Inputs = <<$first::Inputs as crate::nn::Firstly<$first>>::Inputs as AlongWith<($($rest::Inputs,)*)>>::Out;
        }
    };
    // Builds `A: Forward<G, Output = OA>, B: Forward<OA, Output = OB>, ...` one block at a time.
    (@call $input:ident; ($($bounds:tt)*); ($block:ident $out:ident $index:tt $(, $rest_block:ident $rest_out:ident $rest_index:tt)*)) => {
        entries_tuple!(@call $out; ($($bounds)* [$block $input $out $index]); ($($rest_block $rest_out $rest_index),*));
    };
    (@call $last:ident; ($($bounds:tt)*); ()) => {
        entries_tuple!(@impl $last; $($bounds)*);
    };
    (@impl $last:ident; [$first:ident $first_input:ident $first_out:ident $first_index:tt] $([$block:ident $input:ident $out:ident $index:tt])*) => {
        impl<$first_input, $first, $first_out, $($block, $out),*> Chain<$first_input> for ($first, $($block,)*)
        where
            $first_input: HookValue,
            $first: Forward<$first_input, Output = $first_out> + 'static,
            $first_out: HookValue,
            $($block: Forward<$input, Output = $out> + 'static, $out: HookValue,)*
        {
            type Out = $last;

            #[allow(non_snake_case)]
            #[track_caller]
            fn run_from(&self, first: usize, input: &$first_input) -> $last {
                let step = within(first + $first_index);
                let $first_out = run(&self.$first_index, input);
                drop(step);
                $(
                    let step = within(first + $index);
                    let $out = run(&self.$index, &$input);
                    drop(step);
                )*
                $last
            }
        }
    };
}

entries_tuple!(1; A OA 0);
entries_tuple!(2; A OA 0, B OB 1);
entries_tuple!(3; A OA 0, B OB 1, C OC 2);
entries_tuple!(4; A OA 0, B OB 1, C OC 2, D OD 3);
entries_tuple!(5; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4);
entries_tuple!(6; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5);
entries_tuple!(7; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6);
entries_tuple!(8; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7);
entries_tuple!(9; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8);
entries_tuple!(10; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8, K OK 9);
entries_tuple!(11; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8, K OK 9, L OL 10);
entries_tuple!(12; A OA 0, B OB 1, C OC 2, D OD 3, E OE 4, F OF 5, H OH 6, I OI 7, J OJ 8, K OK 9, L OL 10, M OM 11);

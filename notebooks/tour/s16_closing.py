"""Where to go next, and the clean-up cell."""

from tour.cells import code, text

CELLS = [
    text(
        en="""
        ## Where next

        `python -m minitrain.demo` puts most of this together: an MLP with
        BatchNorm, EarlyStopping with `restore_best_weights`, ModelCheckpoint with
        `save_best_only`, TerminateOnNaN and a schedule, and writes the plots and
        the best checkpoint to `./minitrain-demo` (`-h` lists the options;
        `--dataset mnist` trains on MNIST). To read the code, start with
        `minitrain/layers/`, where every backward sits under its forward. When a
        model outgrows one process, `minitrain.interop` carries it, its weights
        and its optimizer state, to PyTorch or Keras.
        """,
        ko="""
        ## 다음으로

        `python -m minitrain.demo`는 이 내용 대부분을 한데 모읍니다. BatchNorm이 있는
        MLP, `restore_best_weights`를 쓰는 EarlyStopping, `save_best_only`를 쓰는
        ModelCheckpoint, TerminateOnNaN과 스케줄을 써서 학습하고, 그림과 가장 좋은
        체크포인트를 `./minitrain-demo`에 씁니다(`-h`로 옵션을 볼 수 있고,
        `--dataset mnist`는 MNIST로 학습합니다). 코드를 읽으려면 모든 역전파가 순전파 아래에
        있는 `minitrain/layers/`부터 시작하세요. 모델이 프로세스 하나보다 커지면
        `minitrain.interop`이 모델과 가중치, 옵티마이저 상태를 PyTorch나 Keras로 옮겨 줍니다.
        """,
    ),
    code("""
        shutil.rmtree(workdir)  # the checkpoints of section 7
        """),
]

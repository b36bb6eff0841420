"""scikit-learn 1.9's callback API (``sklearn.callback``) on glassnet's estimators."""

import pytest
from sklearn.callback import ScoringMonitor
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)


class Recorder:
    """A minimal FitCallback: records each hook call with the task's name and depth."""

    def __init__(self, stop_after=None):
        self.events = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None):
        self.events.append(("end", context.task_name))
        n_epochs = sum(1 for event in self.events if event == ("end", "epoch"))
        if fitted_estimator is not None and context.task_name == "epoch":
            assert fitted_estimator.predict(X).shape == (len(X),)
        return self.stop_after is not None and n_epochs >= self.stop_after

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))


@pytest.mark.parametrize(("solver", "task"), [("adam", "epoch"), ("sgd", "epoch"), ("lbfgs", "lbfgs-iter")])
def test_one_task_per_iteration(solver, task):
    recorder = Recorder()
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver=solver, max_iter=7, random_state=0)
    clf.set_callbacks(recorder).fit(X, Y)
    events = recorder.events
    assert events[0] == ("setup", "fit") and events[1] == ("begin", "fit")
    assert events[-2:] == [("end", "fit"), ("teardown", "fit")]
    begins = events.count(("begin", task))
    assert begins == events.count(("end", task))
    assert begins == clf.n_iter_ + (1 if solver == "lbfgs" else 0)  # lbfgs: one extra, empty task


def test_a_callback_can_stop_training():
    clf = MLPRegressor(max_iter=50, random_state=0).set_callbacks(Recorder(stop_after=3))
    clf.fit(X, Y.astype(float))
    assert clf.n_iter_ == 3


def test_teardown_runs_when_training_fails():
    from glassnet.exceptions import TrainingDivergedError

    recorder = Recorder()
    reg = MLPRegressor(solver="sgd", learning_rate_init=10.0, momentum=0.0, random_state=0)
    with pytest.raises(TrainingDivergedError):
        reg.set_callbacks(recorder).fit(X * 1e3, Y.astype(float))
    assert recorder.events[-1] == ("teardown", "fit")


def test_scoring_monitor_scores_every_epoch():
    monitor = ScoringMonitor(scoring="accuracy")
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0, learning_rate_init=0.05)
    clf.set_callbacks(monitor).fit(X, Y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert len(rows) == 6
    assert rows[-1]["accuracy"] == pytest.approx(clf.score(X, Y))


def test_progress_bar(capsys):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    MLPClassifier(max_iter=5, random_state=0).set_callbacks(ProgressBar()).fit(X, Y)
    out = capsys.readouterr().out
    assert "MLPClassifier - fit" in out and "100%" in out


def test_progress_bar_inside_grid_search_and_pipeline(capsys):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=5, random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2)
    search.set_callbacks(ProgressBar(max_propagation_depth=None)).fit(X, Y)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out and "MLPClassifier - fit" in out


class Interrupt(Recorder):
    """Simulates Ctrl-C after a few epochs."""

    def on_fit_task_end(self, estimator, context, **kwargs):
        super().on_fit_task_end(estimator, context, **kwargs)
        if context.task_name == "epoch" and estimator.n_iter_ == 3:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_weights_so_far():
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0).set_callbacks(Interrupt())
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        clf.fit(X, Y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    assert clf.predict(X).shape == (len(X),)

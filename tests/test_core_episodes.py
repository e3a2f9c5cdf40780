import numpy as np
import pytest
import torch

from core.datasets.class_dataset import from_class_lists
from core.episodes import Episode, EpisodeSampler, alphabet_of


def test_same_seed_and_index_give_the_same_episode(small_glyphs):
    first = EpisodeSampler(small_glyphs, "evaluation", 5, 2, 3, seed=7).episode(4)
    second = EpisodeSampler(small_glyphs, "evaluation", 5, 2, 3, seed=7).episode(4)
    assert first.class_ids == second.class_ids
    assert torch.equal(first.support_x, second.support_x)
    assert torch.equal(first.query_x, second.query_x)


def test_episodes_do_not_depend_on_the_order_they_are_drawn(small_glyphs):
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 2, seed=3)
    streamed = [episode for episode, _ in zip(sampler, range(3))]
    direct = sampler.episode(2)
    assert [e.index for e in streamed] == [0, 1, 2]
    assert torch.equal(streamed[2].query_x, direct.query_x)


def test_other_seeds_and_indices_give_other_episodes(small_glyphs):
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 1, seed=0)
    other_seed = EpisodeSampler(small_glyphs, "background", 5, 1, 1, seed=1)
    assert sampler.episode(0).class_ids != sampler.episode(1).class_ids
    assert sampler.episode(0).class_ids != other_seed.episode(0).class_ids


def test_episode_shapes_dtypes_and_labels(small_glyphs):
    episode = EpisodeSampler(small_glyphs, "evaluation", 4, 3, 5, seed=0).episode(0)
    assert isinstance(episode, Episode)
    assert episode.support_x.shape == (12, 1, 28, 28) and episode.support_x.dtype == torch.uint8
    assert episode.query_x.shape == (20, 1, 28, 28) and episode.query_x.dtype == torch.uint8
    assert episode.support_y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert episode.query_y.tolist() == sorted(episode.query_y.tolist())
    assert (episode.n_way, episode.n_shot, episode.n_query) == (4, 3, 5)
    assert len(episode.class_names) == 4 == len(set(episode.class_ids))


def test_episode_is_frozen(small_glyphs):
    episode = EpisodeSampler(small_glyphs, "evaluation", 2, 1, 1).episode(0)
    with pytest.raises(AttributeError):
        episode.seed = 3


def test_classes_come_from_the_split_and_images_from_their_class(small_glyphs):
    sampler = EpisodeSampler(small_glyphs, "evaluation", 5, 2, 3, seed=0)
    for index in range(20):
        episode = sampler.episode(index)
        assert {small_glyphs.class_splits[c] for c in episode.class_ids} == {"evaluation"}
        for label, class_id in enumerate(episode.class_ids):
            own = small_glyphs.class_images(class_id).flatten(1)
            for image in episode.support_x[episode.support_y == label]:
                assert (own == image.flatten()).all(1).any()


def test_support_and_query_never_share_an_image():
    per_class = [torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1) + 10 * c for c in range(3)]
    dataset = from_class_lists("numbers", per_class, ["a", "b", "c"], ["all"] * 3)
    sampler = EpisodeSampler(dataset, "all", 3, 4, 6, seed=0)
    for index in range(50):
        episode = sampler.episode(index)
        support, query = set(episode.support_x.flatten().tolist()), set(episode.query_x.flatten().tolist())
        assert not support & query and len(support | query) == 30


def test_classes_with_too_few_images_are_left_out():
    per_class = [torch.zeros(count, 1, 2, 2, dtype=torch.uint8) for count in (2, 6, 6, 9)]
    dataset = from_class_lists("uneven", per_class, list("abcd"), ["all"] * 4)
    sampler = EpisodeSampler(dataset, "all", 3, 2, 3, seed=0)
    assert sampler.eligible.tolist() == [1, 2, 3]
    assert all(0 not in sampler.episode(i).class_ids for i in range(10))


@pytest.mark.parametrize(
    ("n_way", "n_shot", "n_query", "message"),
    [
        (0, 1, 1, "n_way must be a whole number of at least 2, got 0"),
        (1, 1, 1, "n_way must be a whole number of at least 2, got 1"),
        (5, 0, 1, "n_shot must be a whole number of at least 1, got 0"),
        (5, -1, 1, "n_shot must be a whole number of at least 1, got -1"),
        (5, 1, 0, "n_query must be a whole number of at least 1, got 0"),
        (5, 1.5, 1, "n_shot must be a whole number of at least 1, got 1.5"),
        (5, True, 1, "n_shot must be a whole number of at least 1, got True"),
    ],
)
def test_non_positive_or_fractional_sizes_are_refused(small_glyphs, n_way, n_shot, n_query, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        EpisodeSampler(small_glyphs, "evaluation", n_way, n_shot, n_query)


def test_more_ways_than_classes_says_how_many_there_are(small_glyphs):
    available = len(small_glyphs.classes_in("evaluation"))
    with pytest.raises(ValueError, match=f"has only {available} classes; choose n_way <= {available}"):
        EpisodeSampler(small_glyphs, "evaluation", available + 1, 1, 1)


def test_more_shots_and_queries_than_images_says_what_fits(small_glyphs):
    with pytest.raises(ValueError, match=r"n_shot \+ n_query = 21 .* n_shot \+ n_query <= 20") as caught:
        EpisodeSampler(small_glyphs, "evaluation", 5, 1, 20)
    assert caught.value.code == "episode.too_few_images"  # the numbers too, for the app to word in any language
    expected = {"per_class": 21, "fits": 20, "split": "evaluation", "dataset": small_glyphs.name}
    assert {k: v for k, v in caught.value.params.items() if k in expected} == expected


def test_unknown_split_lists_the_real_ones(small_glyphs):
    with pytest.raises(ValueError, match="no split 'test'; choose one of background, evaluation, all"):
        EpisodeSampler(small_glyphs, "test", 5, 1, 1)


def test_all_split_draws_from_every_class(small_glyphs):
    sampler = EpisodeSampler(small_glyphs, "all", 5, 1, 1, seed=0)
    drawn = {c for i in range(200) for c in sampler.episode(i).class_ids}
    assert {small_glyphs.class_splits[c] for c in drawn} == {"background", "evaluation"}
    assert len(sampler.eligible) == small_glyphs.n_classes


def test_uniform_and_uneven_paths_sample_without_replacement():
    per_class = [torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1) for n in (5, 7)]
    dataset = from_class_lists("uneven", per_class, ["a", "b"], ["all"] * 2)
    episode = EpisodeSampler(dataset, "all", 2, 2, 3, seed=0).episode(0)
    for label in (0, 1):
        values = (
            torch.cat([episode.support_x[episode.support_y == label], episode.query_x[episode.query_y == label]])
            .flatten()
            .tolist()
        )
        assert len(set(values)) == 5
    assert np.all(dataset.class_counts == [5, 7])


def test_within_alphabet_episodes_draw_every_class_from_one_alphabet(small_glyphs):
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 1, seed=0, within_alphabet=1.0)
    alphabets = set()
    for index in range(30):
        names = sampler.episode(index).class_names
        assert len({alphabet_of(name) for name in names}) == 1, names
        alphabets.add(alphabet_of(names[0]))
    assert len(alphabets) == 3  # every background alphabet takes its turn


def test_a_share_of_within_alphabet_episodes_mixes_both_kinds_and_zero_keeps_the_old_sequence(small_glyphs):
    mixed = EpisodeSampler(small_glyphs, "background", 5, 1, 1, seed=0, within_alphabet=0.5)
    kinds = [len({alphabet_of(n) for n in mixed.episode(i).class_names}) == 1 for i in range(60)]
    assert 10 < sum(kinds) < 50
    plain, zero = EpisodeSampler(small_glyphs, "background", 5, 1, 1, seed=0), EpisodeSampler(
        small_glyphs, "background", 5, 1, 1, seed=0, within_alphabet=0.0)  # fmt: skip
    assert all(plain.episode(i).class_ids == zero.episode(i).class_ids for i in range(10))


def test_within_alphabet_requests_that_cannot_be_met_say_what_to_change(small_glyphs):
    with pytest.raises(ValueError, match="largest has 11; lower n_way to 11"):
        EpisodeSampler(small_glyphs, "background", 13, 1, 1, within_alphabet=1.0)
    with pytest.raises(ValueError, match="from 0 to 1"):
        EpisodeSampler(small_glyphs, "background", 5, 1, 1, within_alphabet=1.5)
    assert alphabet_of("Greek/character03/rot090") == "Greek/rot090" and alphabet_of("Greek/character03") == "Greek"
